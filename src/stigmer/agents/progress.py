"""How a running agent reports progress: messages, todos and usage, redacted, as they happen.

Every report is one status update through the API, so `stigmer executions watch` and
`stigmer agent run --follow` see it at once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from google.protobuf import json_format

from stigmer.agents.secrets import Redactor
from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import Client

TODO_STATUSES = ("pending", "in_progress", "completed")


class Reporter:
    def __init__(self, api: Client, execution_id: str, redactor: Redactor) -> None:
        self.api = api
        self.execution_id = execution_id
        self.redactor = redactor

    async def message(
        self, content: str, *, role: str = "assistant", tool_name: str = "", data: Any = None
    ) -> None:
        entry = pb.AgentMessage(role=role, content=self.redactor.text(content), tool_name=tool_name)
        if data is not None:
            json_format.ParseDict(self.redactor.data(data), entry.data)
        await self.api.update_status(self.execution_id, pb.StatusPatch(append_messages=[entry]))

    async def todos(self, items: Sequence[Mapping[str, str]]) -> None:
        """Replace the todo list; each item has `content` and `status`."""
        todos = [
            pb.Todo(content=self.redactor.text(i["content"]), status=i.get("status", "pending"))
            for i in items
        ]
        await self.api.update_status(
            self.execution_id, pb.StatusPatch(todos=todos, replace_todos=True)
        )

    async def usage(self, usage: pb.Usage) -> None:
        """The execution's usage so far (a total, not an increment)."""
        await self.api.update_status(self.execution_id, pb.StatusPatch(usage=usage))

    async def result(self, result: str | dict[str, Any]) -> None:
        """The agent's final text, or its structured result (with its JSON as the text)."""
        if isinstance(result, dict):
            structured = self.redactor.data(result)
            patch = pb.StatusPatch(output=json.dumps(structured, ensure_ascii=False))
            json_format.ParseDict(structured, patch.structured)
        else:
            patch = pb.StatusPatch(output=self.redactor.text(str(result)))
        await self.api.update_status(self.execution_id, patch)
