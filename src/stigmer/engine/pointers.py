"""JSON pointers (RFC 6901): how tasks, error instances and validation errors name nodes.

Kept apart from the loader so workflow code can use it without importing ruamel.yaml.
"""

from __future__ import annotations

from collections.abc import Iterable


def json_pointer(parts: Iterable[str | int]) -> str:
    """The pointer for a path: `("do", 0, "greet")` -> `/do/0/greet`."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)
