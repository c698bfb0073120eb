"""What a workflow task asks for when it calls an agent or another workflow, and what it gets.

These are the payloads that cross Temporal between the engine's workflow code and the
caller activities, so they are plain dataclasses the default data converter handles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

CALL_AGENT_ACTIVITY = "stigmer/engine/call-agent"
RUN_WORKFLOW_ACTIVITY = "stigmer/engine/run-workflow"
DELIVER_CALLBACK_ACTIVITY = "stigmer/system/deliver-callback"
HEARTBEAT_CALLER_ACTIVITY = "stigmer/system/heartbeat-caller"
CANCEL_CALLED_ACTIVITY = "stigmer/engine/cancel-call"

CallKind = Literal["agent", "workflow"]


@dataclass
class CallRequest:
    """One `call: agent` or `run: workflow` task, with its expressions already evaluated."""

    kind: CallKind
    target: str
    """Agent name (kind agent) or Workflow name (kind workflow)."""
    message: str = ""
    """The agent's message; unused for workflows."""
    input: Any = None
    """The nested workflow's input; unused for agents."""
    env: dict[str, str] = field(default_factory=dict)
    deadline_seconds: float | None = None
    """The execution's own deadline; None takes the platform default."""
    heartbeat_timeout_seconds: float | None = None
    """How long the caller waits without a heartbeat; None takes the platform default."""
    parent_execution_id: str = ""
    task_path: str = ""
    """JSON pointer of the calling task, for progress and errors."""


@dataclass
class CallResult:
    """The task's output: the execution as it is at its end."""

    execution_id: str
    phase: str
    output: Any = None
    structured: Any = None
    result_ref: str = ""
    """Set when the result was over the size budget: fetch it with GetResult."""
