"""HTTP for the task types that reach services: requests, their checks and outputs.

Workflow side, `resolve_uri` turns an endpoint into the URI the activity calls: a literal
URI is a URI template whose `{name}` is the input's top-level property `name` (scalars
only, percent-encoded; missing is empty), an expression is used as it evaluates.

Activity side, `send` makes one exchange with httpx and shapes its output: `content` is
the response body, deserialized when its type is JSON and text when it is text, base64
otherwise; `response` is the spec's HTTP response object (`request`, `statusCode`,
`headers`, `content`; credentials in the request headers are masked so they never reach
the workflow history); `raw` is the body in base64. A body that is a string is sent as it
is; any other body as JSON, or as a form when the `content-type` header says so. Secret
values are replaced by `***` in the output by the activity boundary (`remote`); a body
that goes out in base64 has them replaced in its bytes here, before it is encoded.

Without redirects any status outside 200-299 faults; following them, outside 200-399.
The fault is the spec's communication error whose `status` is the HTTP status, so
`try`/`catch` can match on it; a server that cannot be reached is a communication error
with status 503, and one that does not answer in time a timeout error.
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
from stigmer.engine.outbound import auth
from stigmer.engine.outbound.remote import Request
from stigmer.engine.outbound.secrets import defer
from stigmer.engine.tasktype import TaskScope

OUTPUT_MODES = ("content", "response", "raw")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")
REQUEST_TIMEOUT = httpx.Timeout(300.0, connect=30.0)
_MASKED_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


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
    response = await _exchange(
        request,
        method=method,
        uri=uri,
        headers=headers,
        query=query,
        body=body,
        redirect=redirect,
        policy=policy,
    )
    if output == "raw":
        return _base64(response.content, request) if response.content else None
    content = decode(response, request)
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


async def _exchange(
    request: Request,
    *,
    method: str,
    uri: str,
    headers: dict[str, Any],
    query: dict[str, Any],
    body: Any,
    redirect: bool,
    policy: dict[str, Any] | None,
) -> httpx.Response:
    """Send one request with its credentials; a status that is not a success faults."""
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
    return response


async def fetch(uri: str, policy: Any, request: Request) -> bytes:
    """GET a resource (a document, a proto, a script) and return its bytes."""
    response = await _exchange(
        request,
        method="get",
        uri=uri,
        headers={},
        query={},
        body=None,
        redirect=True,
        policy=policy if isinstance(policy, dict) else None,
    )
    return response.content


def check(response: httpx.Response, redirect: bool, request: Request) -> None:
    """Fault with the spec's communication error unless the status is a success."""
    highest = 399 if redirect else 299
    if 200 <= response.status_code <= highest:
        return
    # Redacted before it is cut, so a cut never leaves part of a secret unrecognizable.
    excerpt = request.redactor.text(response.text)[:500].strip() if response.content else ""
    detail = f"{response.request.method} {response.request.url} answered {response.status_code}"
    raise request.fault(
        COMMUNICATION,
        f"{detail}: {excerpt}" if excerpt else detail,
        status=response.status_code,
        title=response.reason_phrase or None,
    )


def decode(response: httpx.Response, request: Request) -> Any:
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
    return _base64(response.content, request)


def _base64(content: bytes, request: Request) -> str:
    return base64.b64encode(request.redactor.binary(content)).decode("ascii")


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


def mapping_argument(value: Any, name: str, request: Request) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise request.fault(CONFIGURATION, f"{name!r} must be an object, got {value!r}")
    return value


def text_argument(value: Any, name: str, request: Request) -> str:
    if not isinstance(value, str) or not value:
        raise request.fault(CONFIGURATION, f"{name!r} must be a URI, got {value!r}")
    return value
