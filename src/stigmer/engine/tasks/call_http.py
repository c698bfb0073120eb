r"""`call: http`: one HTTP request, sent by an engine activity with httpx.

    - getPet:
        call: http
        with:
          method: get
          endpoint:
            uri: https://petstore.example/v2/pet/{petId}    # {name}: a top-level input property
            authentication: {bearer: {token: "${ $secrets.petstore }"}}
          headers: {accept: application/json}
          query: {verbose: "true"}
          body: ${ .pet }
          output: content                                   # or response, raw
          redirect: false

The endpoint, the body, the output modes and the errors are those of
`stigmer.engine.outbound.web`: a literal URI is a URI template filled from the input,
`redirect: false` (the default) faults on any status outside 200-299, and a failed call
is the spec's communication error with the HTTP status, so `try`/`catch` can match it.
"""

from __future__ import annotations

from typing import Any

from stigmer.contract.problems import CONFIGURATION
from stigmer.engine.models import CallHTTP
from stigmer.engine.outbound import auth
from stigmer.engine.outbound.remote import Request, activity_of, call_activity
from stigmer.engine.outbound.secrets import defer
from stigmer.engine.outbound.web import HTTP_METHODS, resolve_uri, send, text_argument
from stigmer.engine.outbound.web import mapping_argument as mapping
from stigmer.engine.tasktype import Checks, Services, TaskScope, TaskType, plain

ACTIVITY = "stigmer/engine/call-http"


async def run(task: CallHTTP, input: Any, scope: TaskScope) -> Any:
    return await call_activity(ACTIVITY, build_request(task, input, scope), scope)


def build_request(task: CallHTTP, input: Any, scope: TaskScope) -> dict[str, Any]:
    """The activity's request: the task's `with`, evaluated, endpoint expanded."""
    args = plain(task.with_)
    endpoint = args.pop("endpoint")
    policy = endpoint.get("authentication") if isinstance(endpoint, dict) else None
    return {
        **defer(args, input, scope),
        "uri": resolve_uri(endpoint, input, scope),
        "authentication": auth.prepare(policy, input, scope),
    }


async def perform(request: Request, services: Services) -> Any:
    """Send the request a `call: http` task built and return the task's output."""
    args = request.args
    method = args.get("method")
    if not isinstance(method, str) or not method:
        raise request.fault(CONFIGURATION, f"'method' must be an HTTP method, got {method!r}")
    return await send(
        request,
        method=method,
        uri=text_argument(args.get("uri"), "endpoint", request),
        headers=mapping(args.get("headers"), "headers", request),
        query=mapping(args.get("query"), "query", request),
        body=args.get("body"),
        output=str(args.get("output") or "content"),
        redirect=bool(args.get("redirect", False)),
        policy=args.get("authentication"),
    )


def check(task: CallHTTP, pointer: str, checks: Checks) -> None:
    where = f"{pointer}/with"
    if task.with_.method.upper() not in HTTP_METHODS:
        checks.add(f"{where}/method", f"{task.with_.method!r} is not an HTTP method")
    args = plain(task.with_)
    endpoint = args.get("endpoint")
    if isinstance(endpoint, dict) and endpoint.get("authentication") is not None:
        checks.authentication(endpoint["authentication"], f"{where}/endpoint/authentication")
    checks.arguments(args, where)


TASK = TaskType(
    kind="call",
    variant="http",
    model=CallHTTP,
    run=run,
    check=check,
    activities=activity_of(ACTIVITY, perform),
    example="""
document: {dsl: '1.0.3', namespace: examples, name: call-http, version: '1.0.0'}
do:
  - getPet:
      call: http
      with:
        method: get
        endpoint:
          uri: https://petstore.swagger.io/v2/pet/{petId}
          authentication: {bearer: {token: "${ $secrets.petstore }"}}
        headers: {accept: application/json}
        output: response
use:
  secrets: [petstore]
""",
)
