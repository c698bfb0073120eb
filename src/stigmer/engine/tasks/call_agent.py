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
"""

from __future__ import annotations

from typing import Any

from stigmer.contract.inputs import CallRequest
from stigmer.engine.durations import parse_duration
from stigmer.engine.expressions import to_text
from stigmer.engine.tasks import TaskScope
from stigmer.engine.tasks.calls import bad_argument, invoke


def build_request(task: dict[str, Any], input: Any, scope: TaskScope) -> CallRequest:
    """Evaluate the task's `with` arguments into the request the handshake carries."""
    raw = dict(task.get("with") or {})
    message = scope.evaluator.interpolate(
        raw.pop("message", ""), input, scope.args, instance=scope.pointer
    )
    args = scope.evaluator.template(raw, input, scope.args, instance=scope.pointer)
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


def _seconds(args: dict[str, Any], key: str, scope: TaskScope) -> float | None:
    if args.get(key) is None:
        return None
    try:
        return parse_duration(args[key]).total_seconds()
    except ValueError as exc:
        raise bad_argument(scope.pointer, f"'{key}': {exc}") from None


async def execute(task: dict[str, Any], input: Any, scope: TaskScope) -> Any:
    return await invoke(build_request(task, input, scope))
