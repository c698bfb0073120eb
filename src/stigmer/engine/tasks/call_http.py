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

A literal endpoint URI is a URI template: `{name}` is replaced by the input's top-level
property `name` (scalars only, percent-encoded; missing is empty). An endpoint written as an
expression is used as it evaluates. A body that is a string is sent as it is; any other
body as JSON, or as a form when the `content-type` header says so.

Output (`output`): `content` is the response body, deserialized when its type is JSON and
text when it is text, base64 otherwise; `response` is the spec's HTTP response object
(`request`, `statusCode`, `headers`, `content`; credentials in the request headers are
masked so they never reach the workflow history); `raw` is the body in base64.

`redirect: false` (the default) does not follow redirects and faults on any status outside
200-299; `redirect: true` follows them and faults outside 200-399. The fault is the spec's
communication error whose `status` is the HTTP status, so `try`/`catch` can match on it; a
server that cannot be reached is a communication error with status 503, and one that does
not answer in time a timeout error.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import httpx

from stigmer.contract.problems import (
    COMMUNICATION,
    CONFIGURATION,
    EXPRESSION,
    TIMEOUT,
    Fault,
    Problem,
)
from stigmer.engine.expressions import strict_body, to_text
from stigmer.engine.tasks import TaskScope, auth
from stigmer.engine.tasks.remote import Request, call_activity
from stigmer.engine.tasks.secrets import defer

ACTIVITY = "stigmer/engine/call-http"
OUTPUT_MODES = ("content", "response", "raw")
REQUEST_TIMEOUT = httpx.Timeout(300.0, connect=30.0)
_MASKED_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


async def execute(task: dict[str, Any], input: Any, scope: TaskScope) -> Any:
    return await call_activity(ACTIVITY, build_request(task.get("with") or {}, input, scope), scope)


def build_request(args: dict[str, Any], input: Any, scope: TaskScope) -> dict[str, Any]:
    """The activity's request: the task's `with`, evaluated, endpoint expanded."""
    endpoint = args.get("endpoint")
    policy = endpoint.get("authentication") if isinstance(endpoint, dict) else None
    rest = {k: v for k, v in args.items() if k != "endpoint"}
    return {
        **defer(rest, input, scope),
        "uri": resolve_uri(endpoint, input, scope),
        "authentication": auth.prepare(policy, input, scope),
    }


def resolve_uri(endpoint: Any, data: Any, scope: TaskScope) -> Any:
    """An endpoint's URI: an expression evaluated, or a URI template expanded from `data`."""
    uri = endpoint.get("uri") if isinstance(endpoint, dict) else endpoint
    if not isinstance(uri, str):
        raise _bad(scope.pointer, f"the endpoint needs a URI, got {uri!r}")
    if strict_body(uri) is not None:
        return defer(uri, data, scope)
    return expand(uri, data, scope.pointer)


def expand(template: str, data: Any, pointer: str) -> str:
    """RFC 6570 simple string expansion from the top-level properties of `data`."""
    out: list[str] = []
    position = 0
    while (opening := template.find("{", position)) >= 0:
        closing = template.find("}", opening)
        if closing < 0:
            break
        name = template[opening + 1 : closing]
        value = data.get(name) if isinstance(data, dict) else None
        if isinstance(value, dict | list):
            raise Fault(
                Problem.of(
                    EXPRESSION,
                    f"URI template variable {name!r} must be a string, number, boolean or null",
                    instance=pointer,
                )
            )
        text = "" if value is None else to_text(value)
        out += [template[position:opening], quote(text, safe="")]
        position = closing + 1
    out.append(template[position:])
    return "".join(out)


def _bad(pointer: str, detail: str) -> Fault:
    return Fault(Problem.of(CONFIGURATION, detail, instance=pointer))


# --- in the activity --------------------------------------------------------------------


async def perform(request: Request) -> Any:
    """Send the request a `call: http` task built and return the task's output."""
    args = request.args
    method = args.get("method")
    if not isinstance(method, str) or not method:
        raise request.fault(CONFIGURATION, f"'method' must be an HTTP method, got {method!r}")
    return await send(
        request,
        method=method,
        uri=_text(args.get("uri"), "endpoint", request),
        headers=_mapping(args.get("headers"), "headers", request),
        query=_mapping(args.get("query"), "query", request),
        body=args.get("body"),
        output=str(args.get("output") or "content"),
        redirect=bool(args.get("redirect", False)),
        policy=args.get("authentication"),
    )


async def send(
    request: Request,
    *,
    method: str,
    uri: str,
    headers: dict[str, Any],
    query: dict[str, Any],
    body: Any,
    output: str,
    redirect: bool,
    policy: dict[str, Any] | None,
) -> Any:
    """One HTTP exchange, its status checked, shaped as `output` asks."""
    if output not in OUTPUT_MODES:
        raise request.fault(CONFIGURATION, f"'output' must be one of {', '.join(OUTPUT_MODES)}")
    names = {k.lower(): k for k in headers}
    credentials = await auth.credentials(policy, request)
    sent_headers = {str(k): to_text(v) for k, v in headers.items()}
    if credentials.header and "authorization" not in names:
        sent_headers["Authorization"] = credentials.header
    digest = httpx.DigestAuth(*credentials.digest) if credentials.digest else None
    content_type = str(headers.get(names.get("content-type", ""), "")).lower()
    payload: dict[str, Any] = {}
    if isinstance(body, str):
        payload["content"] = body.encode()
    elif body is not None and content_type.startswith("application/x-www-form-urlencoded"):
        payload["data"] = body
    elif body is not None:
        payload["json"] = body
    params = {k: _query_value(v) for k, v in query.items() if v is not None}
    try:
        # Merged, not passed as `params`, which would drop a query the URI already has.
        url = httpx.URL(uri).copy_merge_params(params)
        async with httpx.AsyncClient(follow_redirects=redirect, timeout=REQUEST_TIMEOUT) as client:
            response = await client.request(
                method.upper(), url, headers=sent_headers, auth=digest, **payload
            )
    except httpx.TimeoutException as exc:
        raise request.fault(TIMEOUT, f"{method.upper()} {uri} timed out: {exc}") from None
    except (httpx.HTTPError, ValueError) as exc:
        raise request.fault(
            COMMUNICATION,
            f"{method.upper()} {uri} failed: {exc or type(exc).__name__}",
            status=503,
            title="Service Unreachable",
        ) from None
    check(response, redirect, request)
    if output == "raw":
        return base64.b64encode(response.content).decode("ascii") if response.content else None
    content = decode(response)
    if output == "content":
        return content
    return {
        "request": {
            "method": response.request.method.lower(),
            "uri": str(response.request.url),
            "headers": _headers(response.request.headers),
        },
        "statusCode": response.status_code,
        "headers": _headers(response.headers),
        "content": content,
    }


async def fetch(uri: str, policy: Any, request: Request) -> bytes:
    """GET a resource (a document, a proto, a script) and return its bytes."""
    raw = await send(
        request,
        method="get",
        uri=uri,
        headers={},
        query={},
        body=None,
        output="raw",
        redirect=True,
        policy=policy if isinstance(policy, dict) else None,
    )
    return base64.b64decode(raw) if raw else b""


def check(response: httpx.Response, redirect: bool, request: Request) -> None:
    """Fault with the spec's communication error unless the status is a success."""
    highest = 399 if redirect else 299
    if 200 <= response.status_code <= highest:
        return
    excerpt = response.text[:500].strip() if response.content else ""
    detail = f"{response.request.method} {response.request.url} answered {response.status_code}"
    raise request.fault(
        COMMUNICATION,
        f"{detail}: {excerpt}" if excerpt else detail,
        status=response.status_code,
        title=response.reason_phrase or None,
    )


def decode(response: httpx.Response) -> Any:
    """The body, deserialized by its media type: JSON parsed, text as text, else base64."""
    if not response.content:
        return None
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return response.text
    if media.startswith("text/") or media.endswith(("xml", "x-www-form-urlencoded", "yaml")):
        return response.text
    return base64.b64encode(response.content).decode("ascii")


def _headers(headers: httpx.Headers) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers.multi_items():
        value = "***" if name.lower() in _MASKED_HEADERS else value
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def _query_value(value: Any) -> Any:
    if isinstance(value, list):
        return [to_text(item) for item in value]
    return "true" if value is True else "false" if value is False else to_text(value)


def _mapping(value: Any, name: str, request: Request) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise request.fault(CONFIGURATION, f"{name!r} must be an object, got {value!r}")
    return value


def _text(value: Any, name: str, request: Request) -> str:
    if not isinstance(value, str) or not value:
        raise request.fault(CONFIGURATION, f"{name!r} must be a URI, got {value!r}")
    return value
