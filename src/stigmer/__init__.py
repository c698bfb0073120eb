"""Stigmer: long-running AI agents called from Open Workflow DSL workflows, durably.

The client is loaded on first use, so that importing any part of the package (the CLI
above all) does not pay for gRPC, the settings and tracing it may never need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stigmer.client import ApiError, ApiUnreachable, Client

__all__ = ["ApiError", "ApiUnreachable", "Client"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("stigmer.client"), name)
    raise AttributeError(f"module 'stigmer' has no attribute {name!r}")
