r"""`call: openapi`: call an operation of an OpenAPI (3.x) or Swagger (2.0) document.

    - findPet:
        call: openapi
        with:
          document: {endpoint: https://petstore.example/v2/swagger.json}   # or a file
          operationId: findPetsByStatus
          parameters: {status: available}
          authentication: {use: petstore}
          output: content          # content, response or raw, as for `call: http`
          redirect: false

The activity loads the document (JSON or YAML; over HTTP with the endpoint's
authentication, or from the worker's disk inside the directories its operator allows:
`stigmer.engine.outbound.resources`), finds the operation by `operationId`, and
sends it as `call: http` would, with the same output modes and errors. `parameters` are
matched by name to the operation's path, query, header and cookie parameters; the
request body is the parameter named like a Swagger `in: body` parameter, else `body`
(Swagger `formData` parameters are sent as a form). A required parameter that is missing
faults the task with a validation error.

The base URL is the first of the document's `servers` (OpenAPI 3; relative URLs and
server variables resolved) or `schemes`/`host`/`basePath` (Swagger 2); what a document
leaves out is taken from the URL it was loaded from.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from stigmer.contract.problems import CONFIGURATION, VALIDATION
from stigmer.engine.expressions import to_text
from stigmer.engine.models import CallOpenAPI
from stigmer.engine.outbound import auth
from stigmer.engine.outbound.remote import Request, activity_of, call_activity
from stigmer.engine.outbound.resources import load_resource
from stigmer.engine.outbound.secrets import defer
from stigmer.engine.outbound.web import resolve_uri, send
from stigmer.engine.tasktype import Checks, Services, TaskScope, TaskType, plain

ACTIVITY = "stigmer/engine/call-openapi"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


async def run(task: CallOpenAPI, input: Any, scope: TaskScope) -> Any:
    args = plain(task.with_)
    document = dict(args.get("document") or {})
    endpoint = document.get("endpoint")
    document_policy = endpoint.get("authentication") if isinstance(endpoint, dict) else None
    document["endpoint"] = {
        "uri": resolve_uri(endpoint, input, scope),
        "authentication": auth.prepare(document_policy, input, scope),
    }
    rest = {k: v for k, v in args.items() if k not in ("document", "authentication")}
    request = {
        **defer(rest, input, scope),
        "document": document,
        "authentication": auth.prepare(args.get("authentication"), input, scope),
    }
    return await call_activity(ACTIVITY, request, scope)


# --- in the activity --------------------------------------------------------------------


async def perform(request: Request, services: Services) -> Any:
    """Load the document, build the operation's request and send it."""
    args = request.args
    content, location = await load_resource(
        args["document"], request, services.permissions, what="'call: openapi'"
    )
    spec = _parse(content, location, request)
    operation_id = args.get("operationId")
    found = _operation(spec, operation_id)
    if found is None:
        raise request.fault(
            CONFIGURATION, f"operation {operation_id!r} is not in the document at {location}"
        )
    path, method, operation, shared = found
    parameters = args.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise request.fault(CONFIGURATION, "'parameters' must be an object")
    declared = {
        (p.get("name"), p.get("in")): p for p in [*shared, *(operation.get("parameters") or [])]
    }
    query: dict[str, Any] = {}
    headers: dict[str, Any] = {}
    cookies: list[str] = []
    form: dict[str, Any] = {}
    body: Any = None
    for (name, where), parameter in declared.items():
        if name not in parameters:
            if parameter.get("required"):
                raise request.fault(
                    VALIDATION, f"operation {operation_id!r} needs the parameter {name!r}"
                )
            continue
        value = parameters[name]
        if where == "path":
            path = path.replace("{" + str(name) + "}", quote(to_text(value), safe=""))
        elif where == "query":
            query[name] = value
        elif where == "header":
            headers[name] = to_text(value)
        elif where == "cookie":
            cookies.append(f"{name}={quote(to_text(value), safe='')}")
        elif where == "formData":
            form[name] = value
        elif where == "body":
            body = value
    if body is None and "body" in parameters and ("requestBody" in operation or not form):
        body = parameters["body"]
    if form:
        headers.setdefault("content-type", "application/x-www-form-urlencoded")
        body = form
    elif body is not None and not isinstance(body, str):
        headers.setdefault("content-type", _media_type(operation, spec))
    if cookies:
        headers["cookie"] = "; ".join(cookies)
    return await send(
        request,
        method=method,
        uri=_base_url(spec, location).rstrip("/") + path,
        headers=headers,
        query=query,
        body=body,
        output=str(args.get("output") or "content"),
        redirect=bool(args.get("redirect", False)),
        policy=args.get("authentication"),
    )


def _parse(content: bytes, location: str, request: Request) -> dict[str, Any]:
    try:
        text = content.decode("utf-8")
        spec = json.loads(text) if text.lstrip().startswith("{") else YAML(typ="safe").load(text)
    except (UnicodeDecodeError, ValueError, YAMLError) as exc:
        raise request.fault(
            CONFIGURATION, f"the document at {location} is not JSON or YAML: {exc}"
        ) from None
    if not isinstance(spec, dict) or not isinstance(spec.get("paths"), dict):
        raise request.fault(CONFIGURATION, f"the document at {location} has no OpenAPI 'paths'")
    return spec


def _operation(
    spec: dict[str, Any], operation_id: Any
) -> tuple[str, str, dict[str, Any], list[dict[str, Any]]] | None:
    for path, item in spec["paths"].items():
        if not isinstance(item, dict):
            continue
        for method in _METHODS:
            operation = item.get(method)
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                return str(path), method, operation, list(item.get("parameters") or [])
    return None


def _base_url(spec: dict[str, Any], location: str) -> str:
    here = location if urlsplit(location).scheme in ("http", "https") else ""
    servers = spec.get("servers")
    if isinstance(servers, list) and servers and isinstance(servers[0], dict):
        server = servers[0]
        url = str(server.get("url", "/"))
        for name, variable in (server.get("variables") or {}).items():
            url = url.replace("{" + name + "}", str((variable or {}).get("default", "")))
        return urljoin(here, url) if here else url
    if "swagger" in spec:
        origin = urlsplit(here)
        schemes = spec.get("schemes") or []
        scheme = origin.scheme if origin.scheme in schemes or not schemes else schemes[0]
        host = spec.get("host") or origin.netloc
        return f"{scheme or 'https'}://{host}{spec.get('basePath', '')}"
    return urljoin(here, "/") if here else ""


def _media_type(operation: dict[str, Any], spec: dict[str, Any]) -> str:
    content = (operation.get("requestBody") or {}).get("content") or {}
    consumes = operation.get("consumes") or spec.get("consumes") or []
    for media in [*content, *consumes]:
        if re.search(r"json", str(media)):
            return str(media)
    return "application/json"


def check(task: CallOpenAPI, pointer: str, checks: Checks) -> None:
    where = f"{pointer}/with"
    args = plain(task.with_)
    endpoint = (args.get("document") or {}).get("endpoint")
    for path, policy in (
        (
            "/document/endpoint/authentication",
            (endpoint or {}).get("authentication") if isinstance(endpoint, dict) else None,
        ),
        ("/authentication", args.get("authentication")),
    ):
        if policy is not None:
            checks.authentication(policy, where + path)
    checks.reads_file(endpoint, f"{where}/document/endpoint")
    checks.arguments(args, where)


TASK = TaskType(
    kind="call",
    variant="openapi",
    model=CallOpenAPI,
    run=run,
    check=check,
    activities=activity_of(ACTIVITY, perform),
    example="""
document: {dsl: '1.0.3', namespace: examples, name: call-openapi, version: '1.0.0'}
do:
  - findPet:
      call: openapi
      with:
        document:
          endpoint: https://petstore.swagger.io/v2/swagger.json
        operationId: findPetsByStatus
        parameters:
          status: available
""",
)
