"""Stigmer: long-running AI agents called from Open Workflow DSL workflows, durably."""

from stigmer.client import ApiError, ApiUnreachable, Client

__all__ = ["ApiError", "ApiUnreachable", "Client"]
