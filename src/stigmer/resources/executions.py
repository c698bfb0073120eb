"""AgentExecution and WorkflowExecution: identity, phases and how a status changes."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from datetime import UTC, datetime

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.contract.phases import TERMINAL

_PREFIX = {pb.AGENT_EXECUTION: "aex", pb.WORKFLOW_EXECUTION: "wex"}
_TEMPORAL_PREFIX = {
    pb.AGENT_EXECUTION: "agent-execution",
    pb.WORKFLOW_EXECUTION: "workflow-execution",
}
KIND_NAMES = {pb.AGENT_EXECUTION: "AgentExecution", pb.WORKFLOW_EXECUTION: "WorkflowExecution"}


class TransitionError(ValueError):
    """A status change that would rewrite a finished execution's outcome."""


def new_id(kind: pb.ExecutionKind.ValueType) -> str:
    """`aex-…` or `wex-…`: a millisecond clock then randomness, so ids sort by creation."""
    return f"{_PREFIX[kind]}-{int(time.time() * 1000):012x}{secrets.token_hex(5)}"


def kind_of_id(execution_id: str) -> pb.ExecutionKind.ValueType:
    for kind, prefix in _PREFIX.items():
        if execution_id.startswith(prefix + "-"):
            return kind
    return pb.EXECUTION_KIND_UNSPECIFIED


def temporal_workflow_id(kind: pb.ExecutionKind.ValueType, execution_id: str) -> str:
    return f"{_TEMPORAL_PREFIX[kind]}/{execution_id}"


def apply_patch(status: pb.ExecutionStatus, patch: pb.StatusPatch) -> None:
    """Merge a worker's report into the status.

    A finished execution keeps its phase, output and error: a late or repeated report can
    only add what is still open (the callback outcome, usage), never change the outcome.
    """
    stamp = datetime.now(UTC)
    finished = status.phase in TERMINAL
    if patch.phase and patch.phase != status.phase:
        if finished:
            raise TransitionError(
                f"execution is already {pb.Phase.Name(status.phase)}; "
                f"it cannot become {pb.Phase.Name(patch.phase)}"
            )
        status.phase = patch.phase
        if patch.phase == pb.IN_PROGRESS and not status.HasField("started_at"):
            status.started_at.FromDatetime(stamp)
        if patch.phase in TERMINAL:
            status.finished_at.FromDatetime(stamp)
            if not status.HasField("started_at"):
                status.started_at.FromDatetime(stamp)
    if not finished:
        if patch.HasField("output"):
            status.output = patch.output
        if patch.HasField("structured"):
            status.structured.CopyFrom(patch.structured)
        if patch.result_ref:
            status.result_ref = patch.result_ref
        if patch.HasField("error"):
            status.error.CopyFrom(patch.error)
        for message in patch.append_messages:
            added = status.messages.add()
            added.CopyFrom(message)
            if not added.HasField("at"):
                added.at.FromDatetime(stamp)
        if patch.replace_todos:
            del status.todos[:]
        status.todos.extend(patch.todos)
        _merge_tasks(status, patch.tasks)
    if patch.HasField("usage"):
        status.usage.CopyFrom(patch.usage)
    if patch.temporal_workflow_id:
        status.temporal_workflow_id = patch.temporal_workflow_id
    if patch.HasField("callback"):
        _merge_callback(status.callback, patch.callback)
    if patch.heartbeat_delivered:
        status.callback.last_heartbeat_at.FromDatetime(stamp)


def _merge_tasks(status: pb.ExecutionStatus, tasks: Iterable[pb.TaskProgress]) -> None:
    by_path = {task.path: task for task in status.tasks}
    for task in tasks:
        existing = by_path.get(task.path)
        if existing is None:
            added = status.tasks.add()
            added.CopyFrom(task)
            by_path[task.path] = added
        else:
            existing.MergeFrom(task)
            existing.status = task.status or existing.status


def _merge_callback(current: pb.CallbackState, reported: pb.CallbackState) -> None:
    """Only the outcome and its detail are reported; the caller's identity is the API's."""
    if reported.outcome:
        current.outcome = reported.outcome
        current.detail = reported.detail
        if reported.HasField("delivered_at"):
            current.delivered_at.CopyFrom(reported.delivered_at)
