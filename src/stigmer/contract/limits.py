"""Limits every part enforces the same way."""

from __future__ import annotations

from datetime import timedelta

MAX_DEADLINE = timedelta(days=7)
"""The longest an execution may run; a caller without a timeout allows this much."""
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
"""The largest API request or answer, either way: results larger than the size budget are
stored apart, and one larger than this cannot be stored at all."""
