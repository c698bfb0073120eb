"""The inputs workflows are started with and the payloads of the handshake's activities.

They cross Temporal between the API, the engine's workflow code and the workers, so they
are plain dataclasses the default data converter handles; the API starts workflows with
these types, never with hand-built dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass
class AgentExecutionInput:
    """`stigmer/agent-execution`: the execution whose agent to run."""

    execution_id: str


@dataclass
class WorkflowRunInput:
    """`stigmer/workflow-execution`: the execution, its validated DSL document, its input."""

    execution_id: str
    document: dict[str, Any]
    input: Any = None


@dataclass
class ScheduledRun:
    """`stigmer/scheduled-run`: the runs of one applied Workflow's `schedule`."""

    workflow: str
    after_seconds: float | None = None
    """`schedule.after`: wait this long after each run, then run again."""
    on: dict[str, Any] | None = None
    """`schedule.on`: the event consumption strategy that starts each run."""
    waiting: list[dict[str, Any]] = field(default_factory=list)
    """Events received but not consumed yet, carried over when continuing as new."""


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
