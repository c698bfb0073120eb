"""The inputs workflows are started with and the payloads of the handshake's activities.

They cross Temporal between the API, the engine's workflow code and the workers, so they
are plain dataclasses the default data converter handles; the API starts workflows with
these types, never with hand-built dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass
class ExecutionPlan:
    """What an execution's workflow knows from its start: how long it may run, whether a
    caller waits for it, and how often to tell that caller it is alive."""

    deadline_seconds: float = 7 * 24 * 3600.0
    has_caller: bool = False
    heartbeat_interval_seconds: float = 100.0
    history_budget: int = 10_000
    """A workflow execution's run continues as new after this many history events."""
    runner_heartbeat_seconds: float = 10.0
    """An agent's runner that stops heartbeating this long is taken for dead and the run
    is retried."""


@dataclass
class AgentResult:
    """What the runner hands back to the agent's workflow, where Temporal keeps it durable
    before anything is recorded: recording it never runs the agent again."""

    attempt: int
    output: str = ""
    structured: Any = None
    has_structured: bool = False
    result_ref: str = ""
    """Set when the result was over the size budget and stored apart (PutResult)."""
    execution_id: str = ""
    """The execution the run was for: its workflow takes no other execution's result."""
    usage: dict[str, int] | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    """Progress the run could not send before it ended, and system notes about it (as
    AgentMessage JSON): recorded with the end, so no message is lost to an outage."""
    todos: list[dict[str, str]] | None = None
    """The last todo list, when it could not be sent before the end."""


@dataclass
class Ending:
    """How an execution ended. Its workflow records it, then returns it (or fails with it),
    so that an end the API could not take is recovered from Temporal by the reconciler."""

    execution_id: str
    phase: str
    """COMPLETED, FAILED or CANCELLED."""
    error: dict[str, Any] | None = None
    """The problem, for FAILED and CANCELLED."""
    output: str = ""
    structured: Any = None
    has_structured: bool = False
    result_ref: str = ""
    usage: dict[str, int] | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    todos: list[dict[str, str]] | None = None
    attempt: int = 0
    recorded: bool = False
    """True once the API has it; the workflow then returns it without its result."""


@dataclass
class AgentExecutionInput:
    """`stigmer/agent-execution`: the execution whose agent to run."""

    execution_id: str
    plan: ExecutionPlan = field(default_factory=ExecutionPlan)


@dataclass
class WorkflowRunInput:
    """`stigmer/workflow-execution`: the execution, its validated DSL document, its input."""

    execution_id: str
    document: dict[str, Any]
    input: Any = None
    plan: ExecutionPlan = field(default_factory=ExecutionPlan)


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
    call_key: str = ""
    """The call's idempotency key, fixed by its first caller activity: every activity of
    the call, including one that re-attaches after a refused forgery, finds the same
    execution with it (empty: derived from the activity, as before re-attaching existed)."""
    handover: int = 0
    """How many times this call re-attached after refusing a forged outcome."""
    handover_reason: str = ""
    """The forgery the latest re-attach refused."""


@dataclass
class CallResult:
    """The task's output: the execution as it is at its end."""

    execution_id: str
    phase: str
    output: Any = None
    structured: Any = None
    result_ref: str = ""
    """Set when the result was over the size budget: fetch it with GetResult."""
    call_key: str = ""
    """The idempotency key of the call this result ends: a caller takes only its own."""
