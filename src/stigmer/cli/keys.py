"""`stigmer keys rotate`: a new payload key, the old ones kept to open what they sealed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    keys = typer.Typer(help="The payload keys that seal what the platform puts in Temporal.")
    keys.command()(rotate)
    app.add_typer(keys, name="keys")


def rotate(
    data_dir: Annotated[
        Path | None, typer.Option(help="State of the local platform [default: ~/.stigmer].")
    ] = None,
    payload_keys_file: Annotated[
        Path | None,
        typer.Option(
            help="The payload keys' file [default: DATA_DIR/payload-keys].",
            envvar="STIGMER_PAYLOAD_KEYS_FILE",
        ),
    ] = None,
) -> None:
    """Put a new key first in the payload keys file: it seals from the next start on.

    The keys before it stay, so payloads they sealed still open. Restart the API and every
    worker with the new file (or give STIGMER_PAYLOAD_KEYS its content) to use it; remove
    an old key only once no history Temporal keeps can hold payloads it sealed.
    """
    from stigmer.config import load_settings
    from stigmer.credentials import rotate_payload_keys

    settings = load_settings(data_dir=data_dir, payload_keys_file=payload_keys_file)
    rotated = rotate_payload_keys(settings)
    typer.echo(
        f"payload key {rotated.current} now seals; {len(rotated.keys) - 1} older key(s) "
        "still open. Restart the API and every worker to use it."
    )
