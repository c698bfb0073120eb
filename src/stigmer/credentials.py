"""The worker credential: the secret that makes a process one of the platform's own workers.

Only workers may read a caller's task token, write an execution's status or report its
end (see `server.access`). `stigmer server` makes the credential on first start — random,
in the data dir, readable by its owner alone — and gives it to the workers it runs.
Workers elsewhere take it from `STIGMER_WORKER_TOKEN` or from a file
(`STIGMER_WORKER_TOKEN_FILE`, default the data dir's). Rotating it: replace the file (or
the variable) and restart the API and the workers.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from stigmer.config import Settings
from stigmer.errors import PlatformError

FILE_NAME = "worker-token"


class MissingCredential(PlatformError):
    """A worker was started without the worker credential."""


def credential_file(settings: Settings) -> Path:
    return settings.worker_token_file or settings.data_dir / FILE_NAME


def worker_token(settings: Settings, *, create: bool = False) -> str:
    """The worker credential: the variable, else the file; made anew if `create` and none."""
    if settings.worker_token is not None:
        return settings.worker_token.get_secret_value()
    path = credential_file(settings)
    found = _read(path)
    if found:
        return found
    if not create:
        raise MissingCredential(
            f"no worker credential: set STIGMER_WORKER_TOKEN, or point "
            f"STIGMER_WORKER_TOKEN_FILE at the file `stigmer server` keeps ({path})"
        )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return _read(path) or worker_token(settings, create=False)
    with os.fdopen(descriptor, "w") as out:
        out.write(secrets.token_urlsafe(32) + "\n")
    return _read(path)


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise MissingCredential(f"cannot read the worker credential at {path}: {exc}") from exc
