"""The user token: how a process is given it, what it must be, and how records name it.

Clients (the CLI, the console, users' programs) send it and `stigmer server` requires it
when it has one (see `server.access`). A process reads it from `STIGMER_API_TOKEN` or
from a file (`--token-file`, `STIGMER_API_TOKEN_FILE`); `--token` on the command line
still works, with a warning, since every user of the machine can read a command line
(`ps`).

One rule for every process, the server's settings and the CLI alike: an empty or blank
token is no token, and a token shorter than `MIN_LENGTH` characters is refused. This
module stays light so that the CLI applies it without loading the settings model.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from stigmer.errors import PlatformError

MIN_LENGTH = 16
GIVEN = "--token or STIGMER_API_TOKEN"
GIVEN_FILE = "--token-file or STIGMER_API_TOKEN_FILE"
ON_COMMAND_LINE = (
    "warning: --token shows the user token to every user of this machine (ps); "
    "set STIGMER_API_TOKEN or use --token-file instead"
)


class TokenError(PlatformError):
    """A user token that cannot be used: the message says where it came from and why."""


def given(value: str | None) -> str | None:
    """The token, or None: an empty or blank value is no token, never one that matches."""
    return value if value is not None and value.strip() else None


def checked(value: str | None, where: str = GIVEN) -> str | None:
    """The token as `given`, refused when it is too short to be a secret."""
    token = given(value)
    if token is not None and len(token) < MIN_LENGTH:
        raise TokenError(
            f"the user token ({where}) is {len(token)} characters long; it must have at "
            f"least {MIN_LENGTH}: make one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )
    return token


def resolve(value: str | None, file: Path | None) -> str | None:
    """The user token from a value or from a file (given one way only), checked."""
    if file is None:
        return checked(value)
    if given(value) is not None:
        raise TokenError(f"the user token is given twice: by {GIVEN}, and by {GIVEN_FILE}")
    try:
        text = file.read_text()
    except OSError as exc:
        raise TokenError(
            f"cannot read the user token from {file} ({GIVEN_FILE}): {exc.strerror or exc}"
        ) from None
    token = checked(text.strip(), f"{GIVEN_FILE}: {file}")
    if token is None:
        raise TokenError(f"the user token file {file} ({GIVEN_FILE}) is empty")
    return token


def fingerprint(token: str) -> str:
    """A short, stable name for a token in audit records and logs; never the token."""
    return hashlib.sha256(token.encode()).hexdigest()[:8]
