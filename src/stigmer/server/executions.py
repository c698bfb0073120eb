"""ExecutionService: what clients do with executions — create, read, watch, cancel, finish.

An operator's action is audited under the credential and address of the call that asked
for it (`Access.caller`); the request's own `operator` field is recorded only as a claim.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from google.protobuf import json_format
from google.protobuf.duration_pb2 import Duration

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.api.v1 import stigmer_pb2_grpc as pb_grpc
from stigmer.config import Settings
from stigmer.resources.executions import has_ended
from stigmer.server.access import Access
from stigmer.server.changes import Changes
from stigmer.server.creation import Creation
from stigmer.server.errors import InvalidArgument, required_id, rpc, rpc_stream
from stigmer.server.operators import Operators
from stigmer.server.pages import cursor_of, page_size, page_token
from stigmer.server.stuck import find_stuck
from stigmer.store.store import Store

Context = grpc.aio.ServicerContext[Any, Any]

WATCH_POLL_SECONDS = 5.0
"""A change through any replica wakes its watchers at once (see `Changes`); they also
re-read at this pace, in case a notice was lost."""


class ExecutionService(pb_grpc.ExecutionServiceServicer):
    def __init__(
        self,
        store: Store,
        settings: Settings,
        access: Access,
        changes: Changes,
        creation: Creation,
        operators: Operators,
    ) -> None:
        self.store = store
        self.settings = settings
        self.access = access
        self.changes = changes
        self.creation = creation
        self.operators = operators

    @rpc
    async def Create(
        self, request: pb.CreateExecutionRequest, context: Context
    ) -> pb.CreateExecutionResponse:
        if request.callback.task_token and not self.access.is_worker(context):
            raise PermissionError(
                "callback: only the platform's own workers create executions with a caller's token"
            )
        return await self.creation.create(request)

    @rpc
    async def Get(self, request: pb.GetExecutionRequest, context: Context) -> pb.Execution:
        return await self.store.executions.get(required_id(request.id))

    @rpc
    async def List(
        self, request: pb.ListExecutionsRequest, context: Context
    ) -> pb.ListExecutionsResponse:
        size = page_size(request.page_size)
        found, cursor = await self.store.executions.find(
            kind=pb.ExecutionKind.Name(request.kind) if request.kind else None,
            phases=[pb.Phase.Name(phase) for phase in request.phases],
            target=request.target,
            parent_execution_id=request.parent_execution_id,
            idempotency_key=request.idempotency_key,
            limit=size,
            after=_execution_cursor(request.page_token),
        )
        token = page_token(cursor) if len(found) == size else ""
        return pb.ListExecutionsResponse(executions=found, next_page_token=token)

    @rpc_stream
    async def Watch(
        self, request: pb.WatchExecutionRequest, context: Context
    ) -> AsyncIterator[pb.Execution]:
        execution_id = required_id(request.id)
        seen = request.after_revision
        with self.changes.watching(execution_id) as wakeup:
            while True:
                execution = await self.store.executions.get(execution_id)
                if execution.revision > seen:
                    seen = execution.revision
                    yield execution
                if has_ended(execution.status) and _settled(execution):
                    return
                await wakeup.wait(WATCH_POLL_SECONDS)

    @rpc
    async def GetResult(self, request: pb.GetResultRequest, context: Context) -> pb.ExecutionResult:
        execution = await self.store.executions.get(required_id(request.id))
        status = execution.status
        result = pb.ExecutionResult(id=execution.id, phase=status.phase, output=status.output)
        if status.HasField("structured"):
            result.structured.CopyFrom(status.structured)
        if status.HasField("error"):
            result.error.CopyFrom(status.error)
        if status.result_ref:
            stored = await self.store.results.get(execution.id)
            if stored is not None:
                result.output = stored.output
                if stored.structured is not None:
                    json_format.ParseDict(stored.structured, result.structured)
        return result

    @rpc
    async def Cancel(self, request: pb.CancelExecutionRequest, context: Context) -> pb.Execution:
        return await self.operators.cancel(
            required_id(request.id), request.reason, self.access.caller(context), request.operator
        )

    @rpc
    async def Complete(
        self, request: pb.CompleteExecutionRequest, context: Context
    ) -> pb.Execution:
        return await self.operators.complete(
            required_id(request.id),
            request.output,
            self.access.caller(context),
            request.reason,
            request.operator,
        )

    @rpc
    async def Fail(self, request: pb.FailExecutionRequest, context: Context) -> pb.Execution:
        if not request.reason:
            raise InvalidArgument("reason", "is required: it becomes the error's detail")
        return await self.operators.fail(
            required_id(request.id), request.reason, self.access.caller(context), request.operator
        )

    @rpc
    async def ListStuck(
        self, request: pb.ListStuckRequest, context: Context
    ) -> pb.ListStuckResponse:
        found = await find_stuck(self.store, datetime.now(UTC), self.settings.stuck_after)
        response = pb.ListStuckResponse(stuck_after=_duration(self.settings.stuck_after))
        for item in found:
            response.stuck.add(
                execution=item.execution, reason=item.reason, age=_duration(item.age)
            )
        return response


def _execution_cursor(token: str) -> str:
    """`created_at|id` of the last execution of the previous page."""
    cursor = cursor_of(token)
    stamp, bar, _ = cursor.partition("|")
    try:
        datetime.fromisoformat(stamp)
    except ValueError:
        bar = ""
    if cursor and not bar:
        raise InvalidArgument("page_token", "is not a token this server issued")
    return cursor


def _settled(execution: pb.Execution) -> bool:
    """Ended, and the callback (if any) has had its answer."""
    return execution.status.callback.outcome != pb.CALLBACK_WAITING


def _duration(value: timedelta) -> Duration:
    message = Duration()
    message.FromTimedelta(value)
    return message
