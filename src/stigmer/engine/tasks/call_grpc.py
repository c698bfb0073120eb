r"""`call: grpc`: call a unary method of a gRPC service described by a `.proto` file.

    - greet:
        call: grpc
        with:
          proto: {endpoint: file:///srv/protos/greet.proto}    # or an http(s) URL
          service: {name: greet.Greeter, host: localhost, port: 50051}
          method: SayHello
          arguments: {name: ${ .user.name }}

The activity loads the proto into a temporary directory (a local one only from the
directories the worker's operator allows: `stigmer.engine.outbound.resources`), compiles
it with grpcio-tools' protoc, the platform's own tool, into a descriptor set (imports of
the well-known types resolve; other imports must sit beside the file, or be reachable
relative to it for a local one), builds the request and response classes from the
descriptors and calls the method over a channel to `host:port` (TLS on port 443,
plaintext otherwise). `arguments` is the request message in its JSON form; the output is
the response message as JSON with the proto's field names. A basic or bearer
`service.authentication` is sent as `authorization` metadata.

Only unary methods are supported. A call that fails is the spec's communication error,
its `status` the HTTP equivalent of the gRPC status and its `title` the gRPC code name.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from stigmer.contract.problems import COMMUNICATION, CONFIGURATION, TIMEOUT
from stigmer.engine.models import CallGRPC
from stigmer.engine.outbound import auth
from stigmer.engine.outbound.remote import Request, activity_of, call_activity
from stigmer.engine.outbound.resources import load_resource, local_path
from stigmer.engine.outbound.secrets import defer
from stigmer.engine.outbound.web import resolve_uri
from stigmer.engine.tasktype import Checks, Services, TaskScope, TaskType, plain

ACTIVITY = "stigmer/engine/call-grpc"

_HTTP_STATUS = {
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
    "UNAUTHENTICATED": 401,
}
"""gRPC status codes and their HTTP equivalents (as in google.rpc.Code's documentation)."""


async def run(task: CallGRPC, input: Any, scope: TaskScope) -> Any:
    args = plain(task.with_)
    proto = dict(args.get("proto") or {})
    endpoint = proto.get("endpoint")
    proto["endpoint"] = {
        "uri": resolve_uri(endpoint, input, scope),
        "authentication": auth.prepare(
            endpoint.get("authentication") if isinstance(endpoint, dict) else None, input, scope
        ),
    }
    service = dict(args.get("service") or {})
    policy = auth.prepare(service.pop("authentication", None), input, scope)
    rest = {k: v for k, v in args.items() if k not in ("proto", "service")}
    request = {
        **defer(rest, input, scope),
        "proto": proto,
        "service": {**defer(service, input, scope), "authentication": policy},
    }
    return await call_activity(ACTIVITY, request, scope)


# --- in the activity --------------------------------------------------------------------


async def perform(request: Request, services: Services) -> Any:
    """Compile the proto, then call the method with the arguments."""
    import grpc
    from google.protobuf import json_format, message_factory

    args = request.args
    service = args.get("service") or {}
    pool = await _compile(args["proto"], request, services)
    try:
        service_descriptor = pool.FindServiceByName(str(service.get("name")))
    except KeyError:
        raise request.fault(
            CONFIGURATION, f"the proto defines no service {service.get('name')!r}"
        ) from None
    method = service_descriptor.methods_by_name.get(str(args.get("method")))
    if method is None:
        raise request.fault(
            CONFIGURATION,
            f"service {service_descriptor.full_name} has no method {args.get('method')!r}",
        )
    if method.client_streaming or method.server_streaming:
        raise request.fault(
            CONFIGURATION, f"{method.full_name} streams; only unary methods are supported"
        )
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    try:
        message = json_format.ParseDict(args.get("arguments") or {}, request_class())
    except json_format.ParseError as exc:
        raise request.fault(
            CONFIGURATION, f"'arguments' do not fit {method.input_type.full_name}: {exc}"
        ) from None
    port = service.get("port")
    target = f"{service.get('host')}:{port}" if port is not None else str(service.get("host"))
    credentials = await auth.credentials(service.get("authentication"), request)
    metadata = (("authorization", credentials.header),) if credentials.header else None
    channel = (
        grpc.aio.secure_channel(target, grpc.ssl_channel_credentials())
        if port == 443
        else grpc.aio.insecure_channel(target)
    )
    async with channel:
        call = channel.unary_unary(
            f"/{service_descriptor.full_name}/{method.name}",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=response_class.FromString,
        )
        try:
            response = await call(message, metadata=metadata)
        except grpc.aio.AioRpcError as exc:
            code = exc.code().name
            kind = TIMEOUT if code == "DEADLINE_EXCEEDED" else COMMUNICATION
            raise request.fault(
                kind,
                f"{method.full_name} at {target} failed: {exc.details() or code}",
                status=_HTTP_STATUS.get(code, 500),
                title=code,
            ) from None
    result: dict[str, Any] = json_format.MessageToDict(response, preserving_proto_field_name=True)
    return result


async def _compile(proto: dict[str, Any], request: Request, services: Services) -> Any:
    """The descriptor pool of the proto, compiled with protoc in a temporary directory."""
    from google.protobuf import descriptor_pb2, descriptor_pool

    content, location = await load_resource(
        proto, request, services.permissions, what="'call: grpc'"
    )
    with tempfile.TemporaryDirectory(prefix="stigmer-proto-") as work:
        folder = Path(work)
        name = Path(urlsplit(location).path).name or "service.proto"
        (folder / name).write_bytes(content)
        includes = [folder]
        local = local_path(location)
        if local is not None:
            includes.append(local.resolve().parent)
        output = folder / "descriptors.pb"
        errors = await _protoc(name, includes, output)
        if errors is not None:
            raise request.fault(CONFIGURATION, f"cannot compile {location}: {errors}")
        descriptors = descriptor_pb2.FileDescriptorSet.FromString(output.read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for file in descriptors.file:
        pool.Add(file)
    return pool


async def _protoc(name: str, includes: list[Path], output: Path) -> str | None:
    """Run grpcio-tools' protoc in a child process; its errors, or None on success."""
    standard = resources.files("grpc_tools") / "_proto"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        *(f"-I{folder}" for folder in [*includes, standard]),
        f"--descriptor_set_out={output}",
        "--include_imports",
        name,
        cwd=includes[0],
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, errors = await process.communicate()
    if process.returncode == 0:
        return None
    return errors.decode(errors="replace").strip() or f"protoc exited {process.returncode}"


def check(task: CallGRPC, pointer: str, checks: Checks) -> None:
    where = f"{pointer}/with"
    args = plain(task.with_)
    endpoint = (args.get("proto") or {}).get("endpoint")
    for path, policy in (
        (
            "/proto/endpoint/authentication",
            (endpoint or {}).get("authentication") if isinstance(endpoint, dict) else None,
        ),
        ("/service/authentication", (args.get("service") or {}).get("authentication")),
    ):
        if policy is not None:
            checks.authentication(policy, where + path)
    checks.reads_file(endpoint, f"{where}/proto/endpoint")
    checks.arguments(args, where)


TASK = TaskType(
    kind="call",
    variant="grpc",
    model=CallGRPC,
    run=run,
    check=check,
    activities=activity_of(ACTIVITY, perform),
    example="""
document: {dsl: '1.0.3', namespace: examples, name: call-grpc, version: '1.0.0'}
do:
  - greet:
      call: grpc
      with:
        proto:
          endpoint: file://app/greet.proto
        service:
          name: greet.Greeter
          host: localhost
          port: 5011
        method: SayHello
        arguments:
          name: ${ .user.preferredDisplayName }
""",
)
