"""WorkerService: what the platform's own workers report and read, and nobody else may.

Reports are fenced: an ended execution takes no more progress and keeps the ending it
has; a runner attempt that a newer one replaced is refused with FAILED_PRECONDITION, so
it stops instead of overwriting the newer attempt's messages or result.
"""

from __future__ import annotations

from typing import Any

import grpc
import structlog
from google.protobuf import json_format

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.api.v1 import stigmer_pb2_grpc as pb_grpc
from stigmer.config import Settings
from stigmer.contract.limits import MAX_STATUS_BYTES, OverLimit, check_size
from stigmer.observability.metrics import observe_usage
from stigmer.resources.executions import (
    TransitionError,
    add_progress,
    begin,
    end,
    fence,
    record_callback,
)
from stigmer.resources.idempotency import check_same_call, placeholder
from stigmer.server.errors import InvalidArgument, required_id, rpc
from stigmer.server.large_results import result_ref, split_large
from stigmer.server.operators import Operators
from stigmer.server.recorder import Recorder
from stigmer.store.database import NotFound
from stigmer.store.results import StoredResult
from stigmer.store.store import Store

Context = grpc.aio.ServicerContext[Any, Any]
STATUS = "the limit of a status (every Get and Watch sends it whole)"
log = structlog.get_logger("stigmer.server")


class WorkerService(pb_grpc.WorkerServiceServicer):
    def __init__(
        self, store: Store, recorder: Recorder, operators: Operators, settings: Settings
    ) -> None:
        self.store = store
        self.recorder = recorder
        self.operators = operators
        self.settings = settings

    @rpc
    async def GetCallbackToken(
        self, request: pb.GetCallbackTokenRequest, context: Context
    ) -> pb.CallbackToken:
        execution_id = required_id(request.id)
        token = await self._token(await self.store.executions.get(execution_id))
        if token is None:
            raise NotFound(f"execution {execution_id!r} has no caller to call back")
        return token

    async def _token(self, execution: pb.Execution) -> pb.CallbackToken | None:
        """The execution's callback token as it stands, or None when no caller waits."""
        token = await self.store.tokens.get(execution.id)
        if token is None:
            return None
        callback = execution.status.callback
        return pb.CallbackToken(
            task_token=token.task_token,
            attempt=token.attempt,
            namespace=token.namespace,
            workflow_id=callback.workflow_id,
            activity_id=callback.activity_id,
        )

    @rpc
    async def Begin(self, request: pb.BeginRequest, context: Context) -> pb.BeginResponse:
        runs = False

        def change(status: pb.ExecutionStatus) -> None:
            nonlocal runs
            runs = begin(status)

        execution = await self.recorder.update(required_id(request.id), change)
        if runs:
            callback = execution.status.callback
            log.info(
                "execution started",
                execution_id=execution.id,
                workflow_id=callback.workflow_id or None,
                activity_id=callback.activity_id or None,
                token_preview=callback.token_preview or None,
            )
        return pb.BeginResponse(execution=execution, run=runs)

    @rpc
    async def ReportProgress(
        self, request: pb.ProgressReport, context: Context
    ) -> pb.ProgressAccepted:
        usage_before = pb.Usage()

        def change(status: pb.ExecutionStatus) -> None:
            usage_before.CopyFrom(status.usage)
            add_progress(status, request)
            check_size("the execution's status", status.ByteSize(), MAX_STATUS_BYTES, STATUS)

        try:
            execution = await self.recorder.update(required_id(request.id), change)
        except OverLimit as exc:
            log.error("progress refused for its size", execution_id=request.id, error=str(exc))
            raise
        if request.HasField("usage") and execution.spec.HasField("agent"):
            observe_usage(execution.spec.agent.agent, usage_before, execution.status.usage)
        return pb.ProgressAccepted(revision=execution.revision)

    @rpc
    async def PutResult(
        self, request: pb.PutResultRequest, context: Context
    ) -> pb.PutResultResponse:
        execution_id = required_id(request.id)
        ref = result_ref(execution_id)

        def change(status: pb.ExecutionStatus) -> None:
            if status.phase in (pb.COMPLETED, pb.FAILED, pb.CANCELLED):
                raise TransitionError("execution has ended: its result is what it ended with")
            fence(status, request.attempt)
            status.result_ref = ref

        structured = (
            json_format.MessageToDict(request.structured)
            if request.HasField("structured")
            else None
        )
        await self.recorder.update(
            execution_id, change, result=StoredResult(request.output, structured)
        )
        return pb.PutResultResponse(result_ref=ref)

    @rpc
    async def RecordEnding(
        self, request: pb.EndingReport, context: Context
    ) -> pb.RecordEndingResponse:
        execution_id = required_id(request.id)
        report = pb.EndingReport()
        report.CopyFrom(request)
        stored = split_large(report, self.settings.result_size_budget)
        recorded = False
        usage_before = pb.Usage()

        def change(status: pb.ExecutionStatus) -> None:
            nonlocal recorded
            usage_before.CopyFrom(status.usage)
            recorded = end(status, report)

        execution = await self.recorder.update(execution_id, change, result=stored)
        if recorded and report.HasField("usage") and execution.spec.HasField("agent"):
            observe_usage(execution.spec.agent.agent, usage_before, execution.status.usage)
        token = await self._token(execution) if execution.status.callback.workflow_id else None
        return pb.RecordEndingResponse(execution=execution, recorded=recorded, token=token)

    @rpc
    async def RecordCallback(self, request: pb.CallbackReport, context: Context) -> pb.Execution:
        return await self.recorder.update(
            required_id(request.id), lambda status: record_callback(status, request)
        )

    @rpc
    async def CancelCall(self, request: pb.CancelCallRequest, context: Context) -> pb.Execution:
        """Cancel the call's execution, or take its place so its creation finds it ended."""
        key = request.spec.idempotency_key
        if not key:
            raise InvalidArgument("spec.idempotency_key", "is required: the call to cancel")
        reason = request.reason or "the calling workflow was cancelled"
        cancelled = placeholder(request.spec, reason)
        try:
            found = await self.store.executions.by_key(key)
        except NotFound:
            found, created = await self.store.executions.create(cancelled, None)
            if created:
                log.info("call cancelled before its execution was created", execution_id=found.id)
                return found
        check_same_call(found, cancelled)  # a cancel never ends another call's execution
        return await self.operators.cancel(found.id, reason, "the calling workflow")

    @rpc
    async def Subscribe(
        self, request: pb.Subscription, context: Context
    ) -> pb.SubscriptionResponse:
        await self.store.subscriptions.add(_workflow_id(request), request.key)
        return pb.SubscriptionResponse()

    @rpc
    async def Unsubscribe(
        self, request: pb.Subscription, context: Context
    ) -> pb.SubscriptionResponse:
        await self.store.subscriptions.remove(_workflow_id(request), request.key)
        return pb.SubscriptionResponse()


def _workflow_id(subscription: pb.Subscription) -> str:
    if not subscription.workflow_id:
        raise InvalidArgument("workflow_id", "is required")
    return subscription.workflow_id
