"""Every change to an execution goes through here: stored, watchers woken, its end noted.

One place decides what follows a change: watchers of the execution wake at once, and an
execution that just ended is counted, logged, and stops listening for events.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.observability.metrics import observe_finished
from stigmer.resources.executions import has_ended
from stigmer.server.changes import Changes
from stigmer.store.results import StoredResult
from stigmer.store.store import Store

log = structlog.get_logger("stigmer.server")


class Recorder:
    def __init__(self, store: Store, changes: Changes) -> None:
        self.store = store
        self.changes = changes

    async def update(
        self,
        execution_id: str,
        change: Callable[[pb.ExecutionStatus], object],
        *,
        result: StoredResult | None = None,
    ) -> pb.Execution:
        """Apply `change` (see `Executions.update`); `result` is stored with it if the
        change points the status at it."""
        ended_now = False

        def tracked(status: pb.ExecutionStatus) -> None:
            nonlocal ended_now
            before = has_ended(status)
            change(status)
            ended_now = not before and has_ended(status)

        execution = await self.store.executions.update(execution_id, tracked, result=result)
        self.changes.notify(execution_id)
        if ended_now:
            await self._ended(execution)
        return execution

    async def _ended(self, execution: pb.Execution) -> None:
        observe_finished(execution)
        if execution.spec.kind == pb.WORKFLOW_EXECUTION:
            await self.store.subscriptions.remove(execution.status.temporal_workflow_id)
        callback = execution.status.callback
        log.info(
            "execution finished",
            phase=pb.Phase.Name(execution.status.phase),
            execution_id=execution.id,
            workflow_id=callback.workflow_id or None,
            activity_id=callback.activity_id or None,
            token_preview=callback.token_preview or None,
        )
