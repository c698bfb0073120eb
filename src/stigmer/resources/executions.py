"""AgentExecution and WorkflowExecution: identity, phases and how a status may change.

Each change is one named transition. An ended execution keeps its phase, result and
error for good: a late, repeated or superseded report can never change how it ended.
"""

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
TOLD = frozenset({pb.CALLBACK_DELIVERED, pb.CALLBACK_CALLER_GONE})
"""Callback outcomes after which the caller has nothing more to hear."""


class TransitionError(ValueError):
    """A status change the execution's state does not allow (it has ended, for one)."""


class Superseded(TransitionError):
    """A report from a runner attempt that a newer attempt has replaced."""


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


def has_ended(status: pb.ExecutionStatus) -> bool:
    return status.phase in TERMINAL


def begin(status: pb.ExecutionStatus) -> bool:
    """PENDING becomes IN_PROGRESS; False when the body must not run at all: the
    execution ended (cancelled before it began, say) or a cancel is waiting."""
    if has_ended(status) or status.cancel_requested:
        return False
    if status.phase != pb.IN_PROGRESS:
        status.phase = pb.IN_PROGRESS
        status.started_at.FromDatetime(_now())
    return True


def add_progress(status: pb.ExecutionStatus, report: pb.ProgressReport) -> None:
    """Messages, todos, task progress and usage of a running execution."""
    if has_ended(status):
        raise TransitionError(
            f"execution is already {pb.Phase.Name(status.phase)}: it reports no more progress"
        )
    fence(status, report.attempt)
    stamp = _now()
    _append_messages(status, report.append_messages, stamp)
    if report.replace_todos:
        del status.todos[:]
    status.todos.extend(report.todos)
    _merge_tasks(status, report.tasks)
    if report.HasField("usage"):
        status.usage.CopyFrom(report.usage)


def end(status: pb.ExecutionStatus, report: pb.EndingReport) -> bool:
    """Record how the execution ended; False (and nothing changed) if it had ended already."""
    if report.phase not in TERMINAL:
        raise TransitionError(f"{pb.Phase.Name(report.phase)} is not an ending")
    if has_ended(status):
        return False
    fence(status, report.attempt)
    stamp = _now()
    status.phase = report.phase
    status.finished_at.FromDatetime(stamp)
    if not status.HasField("started_at"):
        status.started_at.FromDatetime(stamp)
    if report.output:
        status.output = report.output
    if report.HasField("structured"):
        status.structured.CopyFrom(report.structured)
    if report.result_ref:
        status.result_ref = report.result_ref
    if report.HasField("error"):
        status.error.CopyFrom(report.error)
    if report.HasField("usage"):
        status.usage.CopyFrom(report.usage)
    _append_messages(status, report.messages, stamp)
    if report.replace_todos:
        del status.todos[:]
        status.todos.extend(report.todos)
    return True


def request_cancel(status: pb.ExecutionStatus, note: pb.AgentMessage) -> None:
    """Mark the cancel asked for (with who asked and why), unless it has ended already."""
    if has_ended(status):
        return
    status.cancel_requested = True
    _append_messages(status, [note], _now())


def is_later_caller(incoming: pb.CallbackState, current: pb.CallbackState) -> bool:
    """Whether `incoming` is a newer caller of the call than `current`: a later re-attach
    after a refused forgery, or a later attempt of the same caller activity."""
    return (incoming.handover, incoming.attempt) > (current.handover, current.attempt)


def take_caller(status: pb.ExecutionStatus, incoming: pb.CallbackState) -> bool:
    """A newer caller of the call takes it over: a later re-attach (handover) or a later
    attempt of the same one; False, and nothing changed, for an older one arriving late."""
    current = status.callback
    if not is_later_caller(incoming, current):
        return False
    if incoming.handover > current.handover:
        why = incoming.handover_reason or "an outcome the platform did not make"
        _append_messages(
            status,
            [
                pb.AgentMessage(
                    role="system",
                    content=f"its caller refused a forged ending ({why}) and re-attached "
                    f"on a fresh token (handover {incoming.handover})",
                )
            ],
            _now(),
        )
    status.callback.CopyFrom(incoming)
    return True


def note(status: pb.ExecutionStatus, message: pb.AgentMessage) -> None:
    """A system note (an operator's audit record) kept even on an ended execution."""
    _append_messages(status, [message], _now())


def record_callback(status: pb.ExecutionStatus, report: pb.CallbackReport) -> None:
    """What the caller's Temporal answered. A caller that was told stays told: a late
    duplicate delivery answered "gone" must not hide that an earlier one landed."""
    if report.heartbeat:
        status.callback.last_heartbeat_at.FromDatetime(_now())
    state = report.state
    if not state.outcome:
        return
    current = status.callback
    if current.outcome == pb.CALLBACK_DELIVERED and state.outcome != pb.CALLBACK_DELIVERED:
        return
    current.outcome = state.outcome
    current.detail = state.detail
    if state.HasField("delivered_at"):
        current.delivered_at.CopyFrom(state.delivered_at)


def fence(status: pb.ExecutionStatus, attempt: int) -> None:
    """Reports carry the runner attempt that made them; the newest attempt wins."""
    if not attempt:
        return
    if attempt < status.attempt:
        raise Superseded(
            f"runner attempt {attempt} was superseded by attempt {status.attempt}: "
            "its reports are refused"
        )
    status.attempt = attempt


def _append_messages(
    status: pb.ExecutionStatus, messages: Iterable[pb.AgentMessage], stamp: datetime
) -> None:
    for message in messages:
        added = status.messages.add()
        added.CopyFrom(message)
        if not added.HasField("at"):
            added.at.FromDatetime(stamp)


def _merge_tasks(status: pb.ExecutionStatus, tasks: Iterable[pb.TaskProgress]) -> None:
    by_path = {task.path: task for task in status.tasks}
    for task in tasks:
        existing = by_path.get(task.path)
        if existing is None:
            added = status.tasks.add()
            added.CopyFrom(task)
            by_path[task.path] = added
        else:
            _restart_or_end(existing, task.status)
            for name in ("input", "output"):  # a value replaces the last one, never merges
                if task.HasField(name):
                    existing.ClearField(name)
            existing.MergeFrom(task)
            existing.status = task.status or existing.status


def _restart_or_end(existing: pb.TaskProgress, status: str) -> None:
    """A task that starts again drops its last run's end; one that ends, its iteration."""
    if status == "running":
        for name in ("output", "error", "finished_at"):
            existing.ClearField(name)
    elif status:
        existing.iteration = existing.iterations = 0


def _now() -> datetime:
    return datetime.now(UTC)


def repetition(task: pb.TaskProgress) -> str:
    """How far a looped task has come, in words ("" for a task that ran once): progress
    keeps one entry per task, so this is what says a loop is moving."""
    notes = []
    if task.iterations:
        notes.append(f"iteration {task.iteration} of {task.iterations}")
    if task.runs > 1:
        notes.append(f"ran {task.runs} times")
    return ", ".join(notes)
