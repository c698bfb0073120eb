"""The one error type the platform reports to users as a plain message."""

from __future__ import annotations


class PlatformError(RuntimeError):
    """The platform could not start or keep running; the message says why and what to do.

    ``stigmer server`` prints these without a traceback; anything else is a bug.
    """
