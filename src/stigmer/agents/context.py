"""What an agent's code gets besides its message: identity, environment, progress reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stigmer.agents.progress import Reporter
from stigmer.permissions import Permissions


@dataclass
class AgentContext:
    """Passed to an entrypoint as `ctx`; every report shows up live on the execution.

    `env` holds secret values resolved for this run; whatever the agent reports is
    redacted of them before it is stored.
    """

    execution_id: str
    agent: str
    env: Mapping[str, str]
    attempt: int
    """1 on the first run; higher when a runner died and the agent starts over."""
    _reporter: Reporter
    permissions: Permissions
    """What the runner's operator lets an execution do: code that reads or writes a file
    its message names asks `permissions.file` first (see `stigmer.agents.scripted`)."""

    async def message(
        self, content: str, *, role: str = "assistant", tool_name: str = "", data: Any = None
    ) -> None:
        await self._reporter.message(content, role=role, tool_name=tool_name, data=data)

    async def todos(self, items: Sequence[Mapping[str, str]]) -> None:
        """Replace the todo list; each item has `content` and `status`."""
        await self._reporter.todos(items)
