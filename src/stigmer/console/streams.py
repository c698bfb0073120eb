"""The server-sent events that keep a page current, as changes to apply to its DOM.

Each event carries HTML rendered by the same templates as the page itself: an
execution's page gets the sections that changed (new messages are appended, never
re-sent), the executions page gets the rows whose revision changed and the new order.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Hashable
from typing import Any

from sse_starlette import ServerSentEvent

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import ApiError, ApiUnreachable, Client
from stigmer.config import Settings
from stigmer.console.listing import ListQuery
from stigmer.console.live import Live, Problem
from stigmer.console.pages import Pages
from stigmer.console.tree import Tree, call_tree
from stigmer.console.views import Detail, detail, messages, row

RETRY_MS = 5000
"""How soon a browser reconnects a stream that broke (the API restarting, say)."""
SECTIONS = "sections.html"


def problem_event(exc: Exception) -> ServerSentEvent:
    return ServerSentEvent(data=str(exc), event="problem", retry=RETRY_MS)


class ExecutionUpdates:
    """What changed on an execution's page since the last state sent to it."""

    def __init__(
        self, pages: Pages, settings: Settings, client: Client, shown_revision: int = 0
    ) -> None:
        """`shown_revision`: the state the page already shows (0: unknown)."""
        self.pages = pages
        self.settings = settings
        self.client = client
        self.shown_revision = shown_revision
        self.sent: dict[str, str] = {}
        self.messages_sent: int | None = None
        self.tree: Tree | None = None
        self.tree_key: Hashable = None

    async def changes(self, execution: pb.Execution) -> list[dict[str, str]]:
        view = detail(execution, self.settings)
        tree = await self._tree(execution)
        sections = {
            "summary": self._render("summary", view),
            "actions": self._render("actions", view),
            "result": self._render("result", view),
            "tree": self._render("tree", tree),
            "callback": self._render("callback", view),
        }
        if view.row.kind == "workflow":
            sections["tasks"] = self._render("tasks", view)
        else:
            sections["todos"] = self._render("todos", view)
            sections["usage"] = self._render("usage", view)
        if self.messages_sent is None and execution.revision == self.shown_revision:
            self.sent = sections  # the page shows this very state: nothing to send
            self.messages_sent = len(execution.status.messages)
            return []
        ops = [
            {"target": f"section-{name}", "mode": "replace", "html": html}
            for name, html in sections.items()
            if self.sent.get(name) != html
        ]
        self.sent.update(sections)
        ops.extend(self._messages(execution, view))
        return ops

    def _messages(self, execution: pb.Execution, view: Detail) -> list[dict[str, str]]:
        count = len(execution.status.messages)
        if self.messages_sent is None:  # the page may be older than this state: all of it
            self.messages_sent = count
            html = self._render("conversation", view, messages(execution))
            return [{"target": "section-conversation", "mode": "replace", "html": html}]
        if count <= self.messages_sent:
            return []
        html = self._render("message_items", messages(execution, self.messages_sent))
        self.messages_sent = count
        return [{"target": "messages", "mode": "append", "html": html}]

    async def _tree(self, execution: pb.Execution) -> Tree:
        """Re-read only when something that moves the tree changed: phase or tasks."""
        tasks = tuple((t.path, t.status, t.execution_id) for t in execution.status.tasks)
        key = (execution.status.phase, tasks)
        if self.tree is None or key != self.tree_key:
            self.tree = await call_tree(self.client, execution)
            self.tree_key = key
        return self.tree

    def _render(self, macro: str, *args: Any) -> str:
        return self.pages.fragment(SECTIONS, macro, *args)


async def execution_events(
    live: Live, updates: ExecutionUpdates, execution_id: str
) -> AsyncIterator[ServerSentEvent]:
    try:
        async for execution in live.until_closing(updates.client.watch(execution_id)):
            ops = await updates.changes(execution)
            if ops:
                yield ServerSentEvent(
                    data=json.dumps(ops), event="update", id=str(execution.revision)
                )
    except (ApiError, ApiUnreachable) as exc:
        yield problem_event(exc)
        return
    if not live.closing.is_set():
        yield ServerSentEvent(data="", event="end")  # finished and its caller told: no more


async def list_events(
    live: Live, pages: Pages, query: ListQuery, client: Client, viewer_key: str
) -> AsyncIterator[ServerSentEvent]:
    key = (viewer_key, query.api_filter)
    sent: dict[str, int] = {}
    async with live.subscribe(key, lambda: query.fetch(client)) as subscription:
        async for snapshot in live.until_closing(subscription):
            if isinstance(snapshot, Problem):
                yield ServerSentEvent(data=snapshot.message, event="problem")
                continue
            rows = [row(execution) for execution in query.shown(snapshot)]
            changed = {
                r.id: pages.fragment("parts.html", "row", r)
                for r in rows
                if sent.get(r.id) != r.revision
            }
            sent = {r.id: r.revision for r in rows}
            payload = {"order": [r.id for r in rows], "rows": changed}
            yield ServerSentEvent(data=json.dumps(payload), event="rows")
