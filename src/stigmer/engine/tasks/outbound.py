"""The handlers of the tasks that reach outside through engine activities, by kind."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from stigmer.engine.tasks import TaskScope, auth, grpc, http, mcp, openapi, run_script, run_shell
from stigmer.engine.tasks.secrets import names_read

Handler = Callable[[dict[str, Any], Any, TaskScope], Awaitable[Any]]

CALLS: dict[str, Handler] = {
    "http": http.execute,
    "openapi": openapi.execute,
    "grpc": grpc.execute,
    "mcp": mcp.execute,
}
PROCESSES: dict[str, Handler] = {"shell": run_shell.execute, "script": run_script.execute}


def handler(kind: str, task: dict[str, Any]) -> Handler | None:
    """The handler of a `call` or `run` task this module covers, else None."""
    if kind == "call":
        return CALLS.get(task["call"])
    if kind == "run" and isinstance(task["run"], dict):
        return next((PROCESSES[p] for p in PROCESSES if p in task["run"]), None)
    return None


# What validation checks beyond the schema.
AUTH_SCHEMES = auth.SCHEMES
LANGUAGES = tuple(run_script.LANGUAGES)
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")
secret_names = names_read

_POLICY_PATHS = (
    ("endpoint", "authentication"),
    ("authentication",),
    ("service", "authentication"),
    ("document", "endpoint", "authentication"),
    ("proto", "endpoint", "authentication"),
    ("source", "endpoint", "authentication"),
)


def policies(arguments: dict[str, Any], pointer: str) -> Iterator[tuple[str, Any]]:
    """The authentication policies in a task's arguments, with their JSON pointers."""
    for path in _POLICY_PATHS:
        node: Any = arguments
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if node is not None:
            yield pointer + "".join(f"/{key}" for key in path), node
