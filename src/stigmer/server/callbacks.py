"""Telling a caller from the API itself, when no execution workflow is left to do it.

An operator finishing a stuck execution, a cancel of an execution that never started, a
run that ended outside the engine: in each case the API completes, fails or cancels the
caller through its token and records Temporal's answer, exactly as the execution's own
`deliver-callback` would have.
"""

from __future__ import annotations

import structlog
from temporalio.service import RPCError

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.handshake.delivery import callback_fields, callback_state, report_callback, tell_caller
from stigmer.resources.executions import TOLD, record_callback
from stigmer.server.launcher import Launcher
from stigmer.server.recorder import Recorder
from stigmer.store.store import Store

log = structlog.get_logger("stigmer.server")


class Callbacks:
    def __init__(self, store: Store, launcher: Launcher, recorder: Recorder) -> None:
        self.store = store
        self.launcher = launcher
        self.recorder = recorder

    async def answer(
        self,
        execution: pb.Execution,
        *,
        by: str,
        told: pb.Execution | None = None,
    ) -> pb.Execution:
        """Tell the caller of `execution` how it ended (or what `told` says), once.

        Nothing happens for a direct call or a caller already told. Temporal's answer is
        recorded on the execution; a Temporal that cannot be reached is recorded as an
        error, which `stigmer doctor` lists.
        """
        status = execution.status
        if not status.callback.workflow_id or status.callback.outcome in TOLD:
            return execution
        token = await self.store.tokens.get(execution.id)
        if token is None:
            return execution
        try:
            state = await tell_caller(
                await self.launcher.client(), token.task_token, told or execution, False
            )
        except RPCError as exc:
            state = callback_state(pb.CALLBACK_ERROR, f"Temporal: {exc.message}")
        report = pb.CallbackReport(id=execution.id, state=state)
        execution = await self.recorder.update(
            execution.id, lambda current: record_callback(current, report)
        )
        wire = pb.CallbackToken(
            task_token=token.task_token,
            attempt=token.attempt,
            workflow_id=status.callback.workflow_id,
            activity_id=status.callback.activity_id,
        )
        report_callback(execution, state, {**callback_fields(execution.id, wire), "by": by})
        return execution

    async def taken_by_retry(
        self, execution: pb.Execution, caller: pb.CallbackState
    ) -> pb.Execution:
        """A retried (or re-attached) caller found the execution ended and answers itself.

        Recorded as delivered: the retry takes the result from the creation's answer, so
        the older attempt's token answering "gone" is no sign of a lost caller.
        """
        how = (
            f"re-attached after refusing a forged ending (handover {caller.handover})"
            if caller.handover > execution.status.callback.handover
            else "retried"
        )

        if execution.status.callback.outcome == pb.CALLBACK_DELIVERED:
            return execution
        detail = f"the caller's attempt {caller.attempt} took the recorded end when it {how}"
        report = pb.CallbackReport(
            id=execution.id, state=callback_state(pb.CALLBACK_DELIVERED, detail)
        )
        execution = await self.recorder.update(
            execution.id, lambda current: record_callback(current, report)
        )
        fields = {
            "execution_id": execution.id,
            "attempt": caller.attempt,
            "handover": caller.handover,
        }
        log.info("callback taken by a later caller", how=how, **fields)
        report_callback(execution, execution.status.callback, fields)
        return execution
