"""What an idempotency key binds: one call, and no other.

A key names the call that first used it. A `Create` with a key that is taken finds that
call's execution only when it asks for the same call; asking for another is refused
(`KeyTaken`, ALREADY_EXISTS), so a key taken first by someone else can never hand a
caller an execution it did not ask for, nor attach its callback to one.

The call is what the execution runs and for whom: its kind, its target's name, what it is
given (an agent's message and env; a workflow's input and inline document) and its
parent. Not the version pinned at creation (the definition may change between attempts),
nor the deadline (a caller's retry fits it to the time it has left).

A cancel knows less: the caller's cancel of a call whose creation is still in flight
leaves a *placeholder*, an execution stored already CANCELLED that holds only the call's
kind, target and parent. Between a placeholder and a call only those are compared.
"""

from __future__ import annotations

from typing import Literal

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.contract import problems
from stigmer.resources.executions import new_id, temporal_workflow_id

PLACEHOLDER_TITLE = "Call cancelled before it was created"
"""The title only a placeholder's error has: set by the platform, never by a request."""


class KeyTaken(ValueError):
    """The idempotency key names an execution of another call."""

    def __init__(self, key: str, field: str) -> None:
        self.key = key
        self.field = field
        super().__init__(
            f"spec.idempotency_key: {key!r} already names another call ({field} differs); "
            "a key names one call: use a new key for a new call"
        )


def check_same_call(stored: pb.Execution, asked: pb.Execution) -> None:
    """Refuse, with `KeyTaken`, an `asked` execution that is not the call `stored` holds."""
    identity_only = is_placeholder(stored) or is_placeholder(asked)
    field = _difference(stored.spec, asked.spec, identity_only=identity_only)
    if field is not None:
        raise KeyTaken(asked.spec.idempotency_key, field)


def placeholder(spec: pb.ExecutionSpec, reason: str) -> pb.Execution:
    """An execution that ended CANCELLED before it was ever created: it holds the call's
    idempotency key, so the caller's creation still in flight finds it ended and runs
    nothing."""
    kind = spec.kind or (pb.AGENT_EXECUTION if spec.HasField("agent") else pb.WORKFLOW_EXECUTION)
    execution = pb.Execution(id=new_id(kind), spec=spec)
    execution.spec.kind = kind
    status = execution.status
    status.phase = pb.CANCELLED
    status.created_at.GetCurrentTime()
    status.finished_at.CopyFrom(status.created_at)
    status.temporal_workflow_id = temporal_workflow_id(kind, execution.id)
    status.error.CopyFrom(
        pb.ExecutionError(
            type=problems.CANCELLED, status=499, title=PLACEHOLDER_TITLE, detail=reason
        )
    )
    return execution


def is_placeholder(execution: pb.Execution) -> bool:
    status = execution.status
    return (
        status.phase == pb.CANCELLED
        and not status.HasField("started_at")
        and status.error.title == PLACEHOLDER_TITLE
    )


def _difference(
    stored: pb.ExecutionSpec, asked: pb.ExecutionSpec, *, identity_only: bool
) -> str | None:
    """The first field of the call in which `asked` differs from `stored`, or None."""
    if stored.kind != asked.kind:
        return "spec.kind"
    if stored.WhichOneof("target") != asked.WhichOneof("target"):
        return "spec.agent" if asked.HasField("agent") else "spec.workflow"
    if stored.parent_execution_id != asked.parent_execution_id:
        return "spec.parent_execution_id"
    if asked.HasField("agent"):
        if stored.agent.agent != asked.agent.agent:
            return "spec.agent.agent"
        if identity_only:
            return None
        if stored.agent.message != asked.agent.message:
            return "spec.agent.message"
        if dict(stored.agent.env) != dict(asked.agent.env):
            return "spec.agent.env"
        return None
    if stored.workflow.workflow != asked.workflow.workflow:
        return "spec.workflow.workflow"
    if identity_only:
        return None
    if _content(stored.workflow, "document") != _content(asked.workflow, "document"):
        return "spec.workflow.document"
    if _content(stored.workflow, "input") != _content(asked.workflow, "input"):
        return "spec.workflow.input"
    return None


def _content(run: pb.WorkflowRun, field: Literal["document", "input"]) -> bytes | None:
    """A field's content, None when unset (an unset input is not a null one)."""
    if not run.HasField(field):
        return None
    return bytes(getattr(run, field).SerializeToString(deterministic=True))
