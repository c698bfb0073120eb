"""Agents the size tests run on a platform's runner (imported by their entrypoint)."""

from __future__ import annotations

from stigmer.agents.context import AgentContext
from stigmer.contract.limits import MIB


async def forty_mib(message: str, ctx: AgentContext) -> str:
    """Returns 40 MiB of text and reports nothing on the way."""
    return "x" * (40 * MIB)
