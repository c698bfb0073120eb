"""What the pages show of an execution, as plain values the templates lay out.

Kept apart from the routes so that a page and the live stream that updates it render
the same thing from the same function.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from urllib.parse import quote

from google.protobuf.timestamp_pb2 import Timestamp

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.config import Settings
from stigmer.contract.phases import OPEN_NAMES, TERMINAL
from stigmer.resources.executions import repetition
from stigmer.resources.values import to_json

KINDS = {"agent": "AGENT_EXECUTION", "workflow": "WORKFLOW_EXECUTION"}
"""The kind filter's values, as the API names them."""
OPEN_PHASES = tuple(sorted(OPEN_NAMES))

CALLER_STATES = {
    pb.CALLBACK_WAITING: ("pending on its token", "waiting"),
    pb.CALLBACK_DELIVERED: ("delivered", "ok"),
    pb.CALLBACK_CALLER_GONE: ("caller gone", "gone"),
    pb.CALLBACK_TOKEN_INVALID: ("token refused", "bad"),
    pb.CALLBACK_ERROR: ("delivery failed", "bad"),
}
ROLE_LABELS = {
    "user": "Message",
    "assistant": "Model",
    "tool_call": "Tool call",
    "tool_result": "Tool result",
    "system": "System note",
}
FINISHABLE_OUTCOMES = (pb.CALLBACK_WAITING, pb.CALLBACK_ERROR, pb.CALLBACK_TOKEN_INVALID)
"""A finished execution whose caller is still owed an answer may be finished by hand."""


def kind(execution: pb.Execution) -> str:
    return "agent" if execution.spec.kind == pb.AGENT_EXECUTION else "workflow"


def target(execution: pb.Execution) -> str:
    spec = execution.spec
    return spec.agent.agent if spec.HasField("agent") else spec.workflow.workflow or "(inline)"


def phase(execution: pb.Execution) -> str:
    return pb.Phase.Name(execution.status.phase)


def stamp(value: Timestamp) -> str | None:
    """ISO 8601 in UTC, or None for a time not reached yet."""
    if not value.seconds and not value.nanos:
        return None
    return value.ToDatetime(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


def value_of(message: Any, name: str) -> Any:
    """A `google.protobuf.Value` field as JSON, or None when it is not set."""
    return to_json(getattr(message, name)) if message.HasField(name) else None


@dataclass(frozen=True)
class CallerState:
    label: str
    tone: str


def caller_state(execution: pb.Execution) -> CallerState:
    """How things stand with the caller waiting on this execution's token."""
    callback = execution.status.callback
    if not callback.workflow_id:
        return CallerState("no caller", "none")
    label, tone = CALLER_STATES.get(callback.outcome, ("unknown", "bad"))
    return CallerState(label, tone)


@dataclass(frozen=True)
class Row:
    """One line of the executions page."""

    id: str
    revision: int
    kind: str
    target: str
    phase: str
    created: str | None
    started: str | None
    finished: str | None
    caller: CallerState


def row(execution: pb.Execution) -> Row:
    status = execution.status
    return Row(
        id=execution.id,
        revision=execution.revision,
        kind=kind(execution),
        target=target(execution),
        phase=phase(execution),
        created=stamp(status.created_at),
        started=stamp(status.started_at),
        finished=stamp(status.finished_at),
        caller=caller_state(execution),
    )


def matches(execution: pb.Execution, text: str) -> bool:
    """The text filter: a case-insensitive match on what a person would search for."""
    if not text:
        return True
    status = execution.status
    haystack = " ".join(
        (
            execution.id,
            target(execution),
            phase(execution),
            execution.spec.agent.message,
            status.output,
            status.error.title,
            status.error.detail,
            status.callback.workflow_id,
        )
    )
    return text.lower() in haystack.lower()


@dataclass(frozen=True)
class Message:
    role: str
    label: str
    content: str
    tool_name: str
    data: str | None
    at: str | None


def messages(execution: pb.Execution, start: int = 0) -> list[Message]:
    return [
        Message(
            role=message.role if message.role in ROLE_LABELS else "other",
            label=ROLE_LABELS.get(message.role, message.role or "note"),
            content=message.content,
            tool_name=message.tool_name,
            data=pretty(to_json(message.data)) if message.HasField("data") else None,
            at=stamp(message.at),
        )
        for message in execution.status.messages[start:]
    ]


@dataclass(frozen=True)
class Task:
    path: str
    name: str
    status: str
    input: str | None
    output: str | None
    error: pb.ExecutionError | None
    execution_id: str
    started: str | None
    finished: str | None
    repetition: str


def tasks(execution: pb.Execution) -> list[Task]:
    found = []
    for task in execution.status.tasks:
        given, produced = value_of(task, "input"), value_of(task, "output")
        found.append(
            Task(
                path=task.path,
                name=task.name or task.path.rsplit("/", 1)[-1],
                status=task.status or "pending",
                input=None if given is None else pretty(given),
                output=None if produced is None else pretty(produced),
                error=task.error if task.HasField("error") else None,
                execution_id=task.execution_id,
                started=stamp(task.started_at),
                finished=stamp(task.finished_at),
                repetition=repetition(task),
            )
        )
    return found


@dataclass(frozen=True)
class Actions:
    """Which operator actions this execution allows now."""

    cancel: bool
    finish_by_hand: bool
    needs_json_output: bool


def actions(execution: pb.Execution) -> Actions:
    status = execution.status
    open_ = status.phase not in TERMINAL
    owed = bool(status.callback.workflow_id) and status.callback.outcome in FINISHABLE_OUTCOMES
    return Actions(
        cancel=open_,
        finish_by_hand=open_ or owed,
        needs_json_output=execution.spec.kind == pb.WORKFLOW_EXECUTION,
    )


def temporal_ui_base(settings: Settings) -> str | None:
    """The configured Temporal UI, else the embedded server's own, else none."""
    if settings.temporal_ui_url:
        return settings.temporal_ui_url.rstrip("/")
    if settings.embedded_temporal and settings.temporal_ui_port:
        return f"http://127.0.0.1:{settings.temporal_ui_port}"
    return None


def temporal_link(base: str | None, namespace: str, workflow_id: str) -> str | None:
    if base is None or not workflow_id:
        return None
    return f"{base}/namespaces/{quote(namespace, safe='')}/workflows/{quote(workflow_id, safe='')}"


@dataclass(frozen=True)
class Detail:
    """Everything an execution's page shows but its messages and call tree."""

    execution: pb.Execution
    row: Row
    message: str
    input: str | None
    output: str
    structured: str | None
    result_ref: str
    error: pb.ExecutionError | None
    todos: list[pb.Todo]
    usage: pb.Usage | None
    tasks: list[Task]
    actions: Actions
    cancel_requested: bool
    temporal_url: str | None
    callback: pb.CallbackState | None
    caller_url: str | None
    version: str
    deadline_seconds: int | None


def detail(execution: pb.Execution, settings: Settings) -> Detail:
    status, spec = execution.status, execution.spec
    holder = spec.agent if spec.HasField("agent") else spec.workflow
    ui = temporal_ui_base(settings)
    namespace = status.callback.namespace or settings.temporal_namespace
    structured = value_of(status, "structured")
    given = value_of(spec.workflow, "input") if spec.HasField("workflow") else None
    return Detail(
        execution=execution,
        row=row(execution),
        message=spec.agent.message,
        input=None if given is None else pretty(given),
        output=status.output,
        structured=None if structured is None else pretty(structured),
        result_ref=status.result_ref,
        error=status.error if status.HasField("error") else None,
        todos=list(status.todos),
        usage=status.usage if status.HasField("usage") else None,
        tasks=tasks(execution),
        actions=actions(execution),
        cancel_requested=status.cancel_requested and status.phase not in TERMINAL,
        temporal_url=temporal_link(ui, settings.temporal_namespace, status.temporal_workflow_id),
        callback=status.callback if status.callback.workflow_id else None,
        caller_url=temporal_link(ui, namespace, status.callback.workflow_id),
        version=spec.agent.agent_version or spec.workflow.workflow_version,
        deadline_seconds=int(holder.deadline.ToTimedelta().total_seconds())
        if holder.HasField("deadline")
        else None,
    )
