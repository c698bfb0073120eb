"""Refusing what the platform did not seal, wherever it enters the platform's code.

The codec opens what another Temporal client made as an `Unauthenticated` value. The
worker interceptor here refuses it at the door: a workflow started with one fails at once,
a signal carrying one is dropped, a query or update is refused, an activity given one fails
without running. Results of activities arrive inside workflow code, where `authentic`
checks them. Every refusal is a forgery recorded: the log event `forgery refused`, the
counter `stigmer_forgeries_total{where}` and the alert `StigmerForgeryRefused`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import structlog
from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    ExecuteWorkflowInput,
    HandleQueryInput,
    HandleSignalInput,
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from stigmer.contract.payloads import within_payload_limit
from stigmer.contract.problems import FORGERY, Fault, Problem
from stigmer.observability.metrics import FORGERIES
from stigmer.sealing.codec import Unauthenticated, forgery

log = structlog.get_logger("stigmer.sealing")

T = TypeVar("T")


def report_forgery(where: str, reason: str, **fields: object) -> None:
    """Log and count one refused forgery (in workflow code: not again on replay)."""
    if workflow.in_workflow():
        if workflow.unsafe.is_replaying():
            return
        info = workflow.info()
        fields = {"workflow_id": info.workflow_id, "run_id": info.run_id, **fields}
    elif activity.in_activity():
        info_ = activity.info()
        fields = {
            "workflow_id": info_.workflow_id,
            "activity_id": info_.activity_id,
            "activity_type": info_.activity_type,
            **fields,
        }
    FORGERIES.labels(where).inc()
    log.warning("forgery refused", where=where, reason=reason, **fields)


def authentic(value: T | Unauthenticated, where: str, what: str) -> T:
    """`value`, unless the platform did not seal it: then a recorded forgery, raised as
    the `forgery` fault (workflow code: an activity's result)."""
    if isinstance(value, Unauthenticated):
        report_forgery(where, value.reason)
        raise Fault(forgery(what, value.reason))
    return value


def noted(problem: Problem, where: str) -> Problem:
    """`problem`, recorded as a forgery first when it is one (a failure the converter
    refused); for workflow code that turns an activity's failure into its problem."""
    if problem.type == FORGERY:
        report_forgery(where, problem.detail or "")
    return problem


def unsealed(values: Sequence[Any]) -> Unauthenticated | None:
    return next((v for v in values if isinstance(v, Unauthenticated)), None)


class SealGuard(Interceptor):
    """The worker interceptor that refuses unsealed inputs (see the module's docstring)."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _GuardedActivity(next)

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return _GuardedWorkflow


class _GuardedActivity(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        found = unsealed(input.args)
        if found is not None:
            report_forgery("activity-input", found.reason)
            raise forgery("the activity's input", found.reason).application_error()
        return within_payload_limit(await self.next.execute_activity(input))


class _GuardedWorkflow(WorkflowInboundInterceptor):
    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        found = unsealed(input.args)
        if found is not None:
            report_forgery("workflow-input", found.reason)
            raise forgery("the workflow's input", found.reason).application_error()
        return await self.next.execute_workflow(input)

    async def handle_signal(self, input: HandleSignalInput) -> None:
        found = unsealed(input.args)
        if found is not None:
            report_forgery("signal", found.reason, signal=input.signal)
            return  # dropped: the workflow never sees it
        await self.next.handle_signal(input)

    async def handle_query(self, input: HandleQueryInput) -> Any:
        found = unsealed(input.args)
        if found is not None:
            raise ApplicationError(f"query {input.query!r} refused: {found.reason}")
        return await self.next.handle_query(input)

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        found = unsealed(input.args)
        if found is not None:
            report_forgery("update", found.reason, update=input.update)
            raise forgery(f"update {input.update!r}", found.reason).application_error()
        self.next.handle_update_validator(input)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        found = unsealed(input.args)
        if found is not None:
            raise forgery(f"update {input.update!r}", found.reason).application_error()
        return await self.next.handle_update_handler(input)
