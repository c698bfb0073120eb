"""The platform's Prometheus metrics, named once here for code, alerts and dashboards.

Counters and histograms are incremented in the process where the event happens (a
callback is counted by the worker that delivered it), so Prometheus sums them over every
scraped process. Gauges of stored state are set by the collector
(`server.collector`) of the leading API replica alone, since every replica sees the
same store.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Counter, Gauge, Histogram

from stigmer.api.v1 import stigmer_pb2 as pb

LATENCY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
RUN_BUCKETS = (0.5, 1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400)

# ---------------------------------------------------------------- events

CALLBACKS = Counter(
    "stigmer_callbacks",
    "Callbacks to a caller through its token, by what Temporal answered.",
    ["outcome"],
)
HANDSHAKE_LATENCY = Histogram(
    "stigmer_handshake_latency_seconds",
    "From an execution's recorded end to its caller's recorded resumption (delivered_at).",
    buckets=LATENCY_BUCKETS,
)
EXECUTION_RUN = Histogram(
    "stigmer_execution_run_seconds",
    "Run time of finished executions, from started_at to finished_at.",
    ["kind", "phase"],
    buckets=RUN_BUCKETS,
)
AGENT_TOKENS = Counter(
    "stigmer_agent_tokens",
    "Model tokens agents reported using.",
    ["agent", "direction"],
)
OPERATOR_ACTIONS = Counter(
    "stigmer_operator_actions",
    "Executions finished by hand (stigmer executions complete / fail).",
    ["action"],
)
FORGERIES = Counter(
    "stigmer_forgeries",
    "Payloads, results and failures refused because the platform did not seal them "
    "(a completion forged through Temporal, a workflow started or signalled by hand), "
    "by where they were refused.",
    ["where"],
)
API_REQUESTS = Counter(
    "stigmer_api_requests",
    "API calls handled, by method and gRPC status code.",
    ["service", "method", "code"],
)
API_LATENCY = Histogram(
    "stigmer_api_request_duration_seconds",
    "Time to handle an API call (a Watch stream lasts as long as it is followed).",
    ["service", "method"],
    buckets=LATENCY_BUCKETS,
)

# ----------------------------------------------------------- stored state

PENDING_CALLS = Gauge(
    "stigmer_pending_calls",
    "Agent and workflow executions not finished yet (PENDING or IN_PROGRESS).",
    ["kind", "target"],
)
OLDEST_PENDING_AGE = Gauge(
    "stigmer_oldest_pending_call_age_seconds",
    "Age of the oldest unfinished execution of each kind (0 when there is none).",
    ["kind"],
)
EXECUTIONS = Gauge(
    "stigmer_executions",
    "Stored executions by kind and phase.",
    ["kind", "phase"],
)
STUCK = Gauge(
    "stigmer_stuck_executions",
    "Executions past the stuck threshold, or finished without their caller being told.",
    ["reason"],
)
QUEUE_POLLERS = Gauge(
    "stigmer_task_queue_pollers",
    "Workers seen polling each task queue in the last two minutes, as Temporal reports.",
    ["queue", "type"],
)
LEADS = Gauge(
    "stigmer_api_leader",
    "1 in the API replica that computes the gauges of stored state, 0 in the others.",
)
COLLECTED_AT = Gauge(
    "stigmer_state_collected_timestamp_seconds",
    "When the API last computed the gauges of stored state.",
)

KINDS = {pb.AGENT_EXECUTION: "agent", pb.WORKFLOW_EXECUTION: "workflow"}

# Known label values start at 0, so that `increase()` sees the first event of each.
for _outcome in ("delivered", "caller_gone", "token_invalid", "error"):
    CALLBACKS.labels(_outcome)
for _action in ("complete", "fail"):
    OPERATOR_ACTIONS.labels(_action)
FORGERY_PLACES = (
    "caller",
    "agent-result",
    "activity-result",
    "activity-failure",
    "activity-input",
    "heartbeat-result",
    "workflow-input",
    "workflow-result",
    "signal",
    "update",
)
"""Where a forgery can be refused: the `where` of `stigmer_forgeries_total`."""
for _place in FORGERY_PLACES:
    FORGERIES.labels(_place)


def kind_label(kind: pb.ExecutionKind.ValueType) -> str:
    return KINDS.get(kind, "unknown")


def outcome_label(outcome: pb.CallbackOutcome.ValueType) -> str:
    """`delivered`, `caller_gone`, `token_invalid`, `error` (or `waiting`)."""
    return pb.CallbackOutcome.Name(outcome).removeprefix("CALLBACK_").lower()


def observe_callback(execution: pb.Execution, state: pb.CallbackState) -> None:
    """Count a recorded callback answer; a delivered one also times the hand-back."""
    CALLBACKS.labels(outcome_label(state.outcome)).inc()
    finished = execution.status.finished_at
    if state.outcome == pb.CALLBACK_DELIVERED and finished.seconds:
        HANDSHAKE_LATENCY.observe(_seconds(finished.ToDatetime(), state.delivered_at.ToDatetime()))


def observe_finished(execution: pb.Execution) -> None:
    """Time a finished execution from its recorded timestamps."""
    status = execution.status
    if not (status.started_at.seconds and status.finished_at.seconds):
        return
    EXECUTION_RUN.labels(kind_label(execution.spec.kind), pb.Phase.Name(status.phase)).observe(
        _seconds(status.started_at.ToDatetime(), status.finished_at.ToDatetime())
    )


def observe_usage(agent: str, before: pb.Usage, after: pb.Usage) -> None:
    """Count what a usage report added (reports carry running totals per execution)."""
    for direction, old, new in (
        ("input", before.input_tokens, after.input_tokens),
        ("output", before.output_tokens, after.output_tokens),
    ):
        if new > old:
            AGENT_TOKENS.labels(agent, direction).inc(new - old)


def _seconds(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 0.0)
