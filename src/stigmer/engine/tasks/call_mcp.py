r"""`call: mcp`: one request to a Model Context Protocol server, made with the `mcp` SDK.

    - lookup:
        call: mcp
        with:
          method: tools/call              # or tools/list, prompts/list, prompts/get,
                                          # resources/list, resources/read, resources/templates/list
          parameters: {name: search, arguments: {query: '${ .topic }'}}
          transport:
            stdio: {command: python, arguments: [server.py], environment: {LOG: "0"}}
            # or http: {endpoint: https://mcp.example/mcp, headers: {authorization: ...}}
          client: {name: stigmer, version: "1.0"}
          timeout: {seconds: 30}

The connection starts with the `initialize` handshake, as the spec requires (the SDK
negotiates the protocol version with the server; `protocolVersion` is the one the DSL
documents, so it is accepted and not enforced). The output is the JSON-RPC result. An
error answer, a transport failure, and a tool result flagged `isError` fault the task with
the spec's runtime error. The HTTP transport is MCP's streamable HTTP.

A stdio server is a process started on the engine worker, so, like `run: shell`, its
command must be one the worker's operator allows (`stigmer.permissions`: it is looked up
on the `PATH` the server gets, and the path checked is the path started). `timeout` must
be longer than zero.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from stigmer.contract.problems import CONFIGURATION, RUNTIME, TIMEOUT
from stigmer.engine.durations import parse_positive
from stigmer.engine.expressions import strict_body, to_text
from stigmer.engine.models import CallMCP
from stigmer.engine.outbound.remote import Request, activity_of, call_activity
from stigmer.engine.outbound.resources import endpoint_uri
from stigmer.engine.outbound.secrets import defer
from stigmer.engine.outbound.web import resolve_uri
from stigmer.engine.tasktype import Checks, Services, TaskScope, TaskType, plain

ACTIVITY = "stigmer/engine/call-mcp"
METHODS = (
    "tools/list",
    "tools/call",
    "prompts/list",
    "prompts/get",
    "resources/list",
    "resources/read",
    "resources/templates/list",
)
DEFAULT_TIMEOUT = timedelta(minutes=5)
"""How long one MCP call may take when the task sets no `timeout`."""


async def run(task: CallMCP, input: Any, scope: TaskScope) -> Any:
    args = plain(task.with_)
    transport = dict(args.pop("transport", None) or {})
    if isinstance(transport.get("http"), dict):
        endpoint = transport["http"].get("endpoint")
        transport["http"] = {
            **transport["http"],
            "endpoint": resolve_uri(endpoint, input, scope),
        }
    request = {**defer(args, input, scope), "transport": defer(transport, input, scope)}
    return await call_activity(ACTIVITY, request, scope)


# --- in the activity --------------------------------------------------------------------


async def perform(request: Request, services: Services) -> Any:
    """Connect, send the method, and return its result as JSON."""
    import anyio
    from mcp import Client, MCPError, StdioServerParameters
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client
    from mcp_types import Implementation
    from pydantic import ValidationError

    args = request.args
    method = args.get("method")
    if method not in METHODS:
        raise request.fault(CONFIGURATION, f"'method' must be one of {', '.join(METHODS)}")
    transport = args.get("transport") or {}
    server: Any
    if isinstance(transport.get("stdio"), dict):
        stdio = transport["stdio"]
        command = str(stdio.get("command"))
        env = {str(k): to_text(v) for k, v in (stdio.get("environment") or {}).items()}
        server = StdioServerParameters(
            command=services.permissions.command(
                command, what="'call: mcp' (stdio)", search_path=env.get("PATH")
            ),
            args=[to_text(a) for a in stdio.get("arguments") or []],
            env=env or None,
        )
        where = f"the MCP server {command!r}"
    elif isinstance(transport.get("http"), dict):
        options = transport["http"]
        url = endpoint_uri(options.get("endpoint"))
        headers = {str(k): to_text(v) for k, v in (options.get("headers") or {}).items()}
        server = streamable_http_client(url, http_client=create_mcp_http_client(headers=headers))
        where = f"the MCP server at {url}"
    else:
        raise request.fault(CONFIGURATION, "'transport' needs 'stdio' or 'http'")
    client_info = args.get("client") or {}
    timeout = _seconds(args.get("timeout"), request)
    params = args.get("parameters") or {}
    if not isinstance(params, dict):
        raise request.fault(CONFIGURATION, "'parameters' must be an object")
    try:
        with anyio.fail_after(timeout):
            async with Client(
                server,
                mode="legacy",
                read_timeout_seconds=timeout,
                client_info=Implementation(
                    name=str(client_info.get("name", "stigmer")),
                    version=str(client_info.get("version", "1.0")),
                ),
                cache=None,
            ) as client:
                result = await _send(client, str(method), params)
    except TimeoutError:
        raise request.fault(TIMEOUT, f"{method} on {where} timed out after {timeout} s") from None
    except MCPError as exc:
        raise request.fault(
            RUNTIME, f"{method} on {where} failed: {exc.error.message} (code {exc.error.code})"
        ) from None
    except (OSError, ValidationError, RuntimeError) as exc:
        raise request.fault(RUNTIME, f"{method} on {where} failed: {exc}") from None
    except BaseExceptionGroup as group:
        raise request.fault(RUNTIME, f"{method} on {where} failed: {_first(group)}") from None
    output: dict[str, Any] = result.model_dump(mode="json", by_alias=True, exclude_none=True)
    if output.get("isError"):
        text = " ".join(c.get("text", "") for c in output.get("content", []) if isinstance(c, dict))
        raise request.fault(
            RUNTIME, f"tool {params.get('name')!r} on {where} failed: {text.strip()}"
        )
    return output


async def _send(client: Any, method: str, params: dict[str, Any]) -> Any:
    if method == "tools/list":
        return await client.list_tools()
    if method == "tools/call":
        return await client.call_tool(str(params.get("name")), params.get("arguments") or {})
    if method == "prompts/list":
        return await client.list_prompts()
    if method == "prompts/get":
        arguments = {str(k): to_text(v) for k, v in (params.get("arguments") or {}).items()}
        return await client.get_prompt(str(params.get("name")), arguments)
    if method == "resources/list":
        return await client.list_resources()
    if method == "resources/read":
        return await client.read_resource(str(params.get("uri")))
    return await client.list_resource_templates()


def _seconds(value: Any, request: Request) -> float:
    if value is None:
        return DEFAULT_TIMEOUT.total_seconds()
    try:
        return parse_positive(value).total_seconds()
    except ValueError as exc:
        raise request.fault(CONFIGURATION, f"'timeout': {exc}") from None


def _first(group: BaseExceptionGroup[Any]) -> BaseException:
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def check(task: CallMCP, pointer: str, checks: Checks) -> None:
    where = f"{pointer}/with"
    args = plain(task.with_)
    timeout = args.get("timeout")
    if timeout is not None and strict_body(timeout) is None:
        checks.duration(timeout, f"{where}/timeout", positive=True)
    stdio = (args.get("transport") or {}).get("stdio")
    if isinstance(stdio, dict):
        command = stdio.get("command")
        literal = isinstance(command, str) and strict_body(command) is None
        checks.starts_process(
            repr(command) if literal else "the command its expression gives",
            f"{where}/transport/stdio/command",
            allow_as=str(command) if literal else "COMMAND",
        )
    checks.arguments(args, where)


TASK = TaskType(
    kind="call",
    variant="mcp",
    model=CallMCP,
    run=run,
    check=check,
    activities=activity_of(ACTIVITY, perform),
    example="""
document: {dsl: '1.0.3', namespace: examples, name: call-mcp, version: '1.0.0'}
do:
  - lookup:
      call: mcp
      with:
        method: tools/call
        parameters:
          name: search
          arguments: {query: '${ .topic }'}
        transport:
          http:
            endpoint: http://127.0.0.1:9000/mcp
        timeout: {seconds: 30}
""",
)
