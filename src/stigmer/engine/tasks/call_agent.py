r"""`call: agent`: run a Stigmer agent through the token handshake and wait for its end.

    - ask:
        call: agent
        with:
          agent: summarizer                 # the Agent's name
          message: "Summarize ${ .text } in ${ .words } words"   # or one ${ ... }
          env: {LANGUAGE: en}               # optional, values evaluated like the rest
          timeout: {minutes: 30}            # optional deadline of the agent execution
          heartbeatTimeout: {minutes: 2}    # optional: how soon a dead execution is noticed

Embedded `${ ... }` in the message are replaced by their results; a result that is not a
string is written as JSON, and so is a message that is one expression yielding non-text.
The output is `{execution_id, phase, output, structured}`, read from the execution at its
end (`result_ref` too when the result was kept apart for its size).

`timeout` must be longer than zero and `heartbeatTimeout` at least a second (the
execution heartbeats every third of it); both are refused at validation when written, and
fault the task with a configuration error when an expression yields one that cannot be.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from stigmer.contract.inputs import CallRequest, CallResult
from stigmer.engine import expressions as ex
from stigmer.engine.durations import LONGEST, parse_positive
from stigmer.engine.expressions import to_text
from stigmer.engine.models import CallFunction
from stigmer.engine.outbound.handshake import bad_argument, caller_activities, invoke
from stigmer.engine.tasktype import Called, Checks, TaskScope, TaskType
from stigmer.handshake.timeouts import delivery_margin

ARGUMENTS = ("agent", "message", "env", "timeout", "heartbeatTimeout")
SHORTEST_HEARTBEAT = timedelta(seconds=1)


async def run(task: CallFunction, input: Any, scope: TaskScope) -> Any:
    result = await invoke(build_request(task, input, scope))
    return Called(task_output(result), result.execution_id)


def task_output(result: CallResult) -> dict[str, Any]:
    """`{execution_id, phase, output, structured}`, plus `result_ref` when it is set."""
    output = asdict(result)
    del output["call_key"]
    if not output["result_ref"]:
        del output["result_ref"]
    return output


def build_request(task: CallFunction, input: Any, scope: TaskScope) -> CallRequest:
    """Evaluate the task's `with` arguments into the request the handshake carries."""
    raw = dict(task.with_ or {})
    message = scope.evaluator.interpolate(
        raw.pop("message", ""), input, scope.args, instance=scope.pointer
    )
    args = scope.evaluate(raw, input)
    agent = args.get("agent")
    if not isinstance(agent, str) or not agent:
        raise bad_argument(scope.pointer, f"'agent' must be an agent name, got {agent!r}")
    env = args.get("env") or {}
    if not isinstance(env, dict) or any(isinstance(v, dict | list) for v in env.values()):
        raise bad_argument(scope.pointer, f"'env' must map names to scalar values, got {env!r}")
    return CallRequest(
        kind="agent",
        target=agent,
        message=message,
        env={str(k): to_text(v) for k, v in env.items()},
        deadline_seconds=_seconds(args, "timeout", scope),
        heartbeat_timeout_seconds=_seconds(args, "heartbeatTimeout", scope),
        parent_execution_id=scope.execution_id,
        task_path=scope.pointer,
    )


def timing_problem(key: str, value: Any) -> str | None:
    """Why `value` cannot be the call's `timeout` or `heartbeatTimeout`, or None."""
    try:
        found = parse_positive(value)
    except ValueError as exc:
        return str(exc)
    if key == "heartbeatTimeout" and found < SHORTEST_HEARTBEAT:
        return f"{found.total_seconds():g} s is too short; a heartbeat timeout is at least 1 s"
    if key == "timeout" and found + delivery_margin(found) > LONGEST:
        return "is longer than the longest deadline Temporal can keep for the call"
    return None


def _seconds(args: dict[str, Any], key: str, scope: TaskScope) -> float | None:
    if args.get(key) is None:
        return None
    problem = timing_problem(key, args[key])
    if problem is not None:
        raise bad_argument(scope.pointer, f"'{key}': {problem}")
    return parse_positive(args[key]).total_seconds()


def check(task: CallFunction, pointer: str, checks: Checks) -> None:
    where = f"{pointer}/with"
    args = task.with_
    if args is None:
        checks.add(where, "'call: agent' needs 'with' with at least 'agent' and 'message'")
        return
    for key in args:
        if key not in ARGUMENTS:
            checks.add(
                f"{where}/{key}",
                f"unknown argument {key!r} for 'call: agent'; expected {', '.join(ARGUMENTS)}",
            )
    for key in ("agent", "message"):
        value = args.get(key)
        if not isinstance(value, str) or not value.strip():
            checks.add(
                f"{where}/{key}" if key in args else where,
                f"'call: agent' needs '{key}' as a non-empty string",
            )
    message = args.get("message")
    plain_message = isinstance(message, str) and ex.strict_body(message) is None
    if plain_message:
        for expression, part in ex.segments(str(message)):
            if expression and (problem := ex.compile_error(part, ex.TASK)) is not None:
                checks.add(f"{where}/message", f"expression {part!r}: {problem}")
    env = args.get("env")
    if "env" in args and not isinstance(env, dict):
        checks.add(f"{where}/env", "'env' must map variable names to values")
    elif isinstance(env, dict):
        for key, value in env.items():
            if isinstance(value, dict | list):
                checks.add(f"{where}/env/{key}", "an environment value must be a scalar")
    for key in ("timeout", "heartbeatTimeout"):
        literal = key in args and ex.strict_body(args[key]) is None
        if literal and (problem := timing_problem(key, args[key])) is not None:
            checks.add(f"{where}/{key}", problem)
    rest = {k: v for k, v in args.items() if not (k == "message" and plain_message)}
    checks.template(rest, where)


TASK = TaskType(
    kind="call",
    variant="agent",
    model=CallFunction,
    run=run,
    check=check,
    activities=caller_activities,
    example="""
document: {dsl: '1.0.3', namespace: examples, name: call-agent, version: '1.0.0'}
do:
  - ask:
      call: agent
      with:
        agent: summarizer
        message: "Summarize ${ .text } in ${ .words } words"
        env: {LANGUAGE: en}
        timeout: {minutes: 30}
        heartbeatTimeout: {minutes: 2}
""",
)
