"""The platform's own secrets: the worker credential and the payload keys.

The *worker credential* makes a process one of the platform's own workers: only workers
may read a caller's task token, write an execution's status or report its end (see
`server.access`). The *payload keys* seal what the platform puts in Temporal (see
`stigmer.sealing`): whoever lacks them can neither read a history nor make a payload the
platform takes for its own.

`stigmer server` makes both on first start — random, in the data dir, readable by its
owner alone — and gives them to the workers it runs. Workers elsewhere take them from a
variable (`STIGMER_WORKER_TOKEN`, `STIGMER_PAYLOAD_KEYS`) or from a file
(`STIGMER_WORKER_TOKEN_FILE`, `STIGMER_PAYLOAD_KEYS_FILE`, default the data dir's); they
never make their own, which no other part would share.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from stigmer.config import Settings
from stigmer.errors import PlatformError
from stigmer.sealing.keys import Keyring

FILE_NAME = "worker-token"
KEYS_FILE_NAME = "payload-keys"


class MissingCredential(PlatformError):
    """A process was started without a secret of the platform it needs."""


def credential_file(settings: Settings) -> Path:
    return settings.worker_token_file or settings.data_dir / FILE_NAME


def keys_file(settings: Settings) -> Path:
    return settings.payload_keys_file or settings.data_dir / KEYS_FILE_NAME


def worker_token(settings: Settings, *, create: bool = False) -> str:
    """The worker credential: the variable, else the file; made anew if `create` and none."""
    if settings.worker_token is not None:
        return settings.worker_token.get_secret_value()
    path = credential_file(settings)
    return _kept(
        path,
        lambda: secrets.token_urlsafe(32) + "\n",
        create=create,
        missing=f"no worker credential: set STIGMER_WORKER_TOKEN, or point "
        f"STIGMER_WORKER_TOKEN_FILE at the file `stigmer server` keeps ({path})",
    )


def payload_keyring(settings: Settings, *, create: bool = False) -> Keyring:
    """The payload keys: the variable, else the file; made anew if `create` and none."""
    if settings.payload_keys is not None:
        return Keyring.parse(settings.payload_keys.get_secret_value(), "STIGMER_PAYLOAD_KEYS")
    path = keys_file(settings)
    text = _kept(
        path,
        lambda: Keyring.fresh().render(),
        create=create,
        missing=f"no payload keys: set STIGMER_PAYLOAD_KEYS, or point "
        f"STIGMER_PAYLOAD_KEYS_FILE at the file `stigmer server` keeps ({path})",
    )
    return Keyring.parse(text, str(path))


def rotate_payload_keys(settings: Settings) -> Keyring:
    """Put a new key first in the keys file, keeping the others to open older payloads."""
    path = keys_file(settings)
    rotated = payload_keyring(settings.model_copy(update={"payload_keys": None})).rotated()
    spare = path.with_name(path.name + ".new")
    descriptor = os.open(spare, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(rotated.render())
    os.replace(spare, path)
    return rotated


def _kept(path: Path, make: Callable[[], str], *, create: bool, missing: str) -> str:
    """The secret a file holds; made (owner-only, exactly once) if `create` and none."""
    found = _read(path)
    if found:
        return found
    if not create:
        raise MissingCredential(missing)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return _kept(path, make, create=False, missing=missing)
    with os.fdopen(descriptor, "w") as out:
        out.write(make())
    return _read(path)


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise MissingCredential(f"cannot read {path}: {exc}") from exc
