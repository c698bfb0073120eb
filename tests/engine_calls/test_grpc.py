"""`call: grpc` against a loopback server of `greet.proto`."""

from __future__ import annotations

import importlib
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc
import pytest
from grpc_tools import protoc  # type: ignore[import-untyped]

from tests.support.engine import Engine, document

pytestmark = pytest.mark.temporal

PROTO = Path(__file__).parent / "greet.proto"


def _generated(folder: Path) -> tuple[ModuleType, ModuleType]:
    """The test server's own stubs, generated from the same proto."""
    shutil.copy(PROTO, folder / "greet.proto")
    standard = Path(protoc.__file__).parent / "_proto"
    code = protoc.main(
        [
            "protoc",
            f"-I{folder}",
            f"-I{standard}",
            f"--python_out={folder}",
            f"--grpc_python_out={folder}",
            "greet.proto",
        ]
    )
    assert code == 0
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module("greet_pb2"), importlib.import_module("greet_pb2_grpc")
    finally:
        sys.path.remove(str(folder))


@pytest.fixture(scope="module")
async def greeter(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[int]:
    messages, services = _generated(tmp_path_factory.mktemp("stubs"))

    class Greeter(services.GreeterServicer):  # type: ignore[name-defined,misc]
        async def SayHello(self, request: Any, context: Any) -> Any:
            metadata = dict(context.invocation_metadata())
            reply = messages.HelloReply(
                message=f"Hello, {request.name}!",
                echoes=[request.name] * request.times,
                authorization=metadata.get("authorization", ""),
            )
            reply.at.FromSeconds(1_700_000_000)
            return reply

        async def Fail(self, request: Any, context: Any) -> Any:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no one called {request.name}")

    server = grpc.aio.server()
    services.add_GreeterServicer_to_server(Greeter(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield port
    await server.stop(None)


def _call(
    port: int, method: str, arguments: str, proto: str = PROTO.as_uri(), extra: str = ""
) -> str:
    return document(
        f"""
  - greet:
      call: grpc
      with:
        proto:
          endpoint: "{proto}"
        service:
          name: greet.Greeter
          host: 127.0.0.1
          port: {port}
{extra}        method: {method}
        arguments: {arguments}
"""
    )


async def test_a_unary_call(engine: Engine, greeter: int) -> None:
    flow = _call(greeter, "SayHello", "{name: '${ .user }', times: 2}")
    assert await engine.run(flow, {"user": "Ada"}) == {
        "message": "Hello, Ada!",
        "echoes": ["Ada", "Ada"],
        "at": "2023-11-14T22:13:20Z",
    }


async def test_bearer_authentication_is_sent_as_metadata(engine: Engine, greeter: int) -> None:
    flow = _call(
        greeter,
        "SayHello",
        "{name: Ada}",
        extra="          authentication: {bearer: {token: '${ .token }'}}\n",
    )
    output = await engine.run(flow, {"token": "t0k"})
    assert output["authorization"] == "Bearer t0k"


async def test_a_failed_call_is_a_communication_error(engine: Engine, greeter: int) -> None:
    error = await engine.fault(_call(greeter, "Fail", "{name: Bob}"))
    assert error["type"] == "https://serverlessworkflow.io/spec/1.0.0/errors/communication"
    assert (error["status"], error["title"], error["instance"]) == (404, "NOT_FOUND", "/do/0/greet")
    assert "no one called Bob" in error["detail"]


async def test_a_proto_that_cannot_be_loaded_and_bad_arguments(
    engine: Engine, greeter: int, petstore: str
) -> None:
    missing = await engine.fault(_call(greeter, "SayHello", "{name: Ada}", f"{petstore}/x.proto"))
    assert missing["status"] == 404
    bad = await engine.fault(_call(greeter, "SayHello", "{nobody: 1}"))
    assert bad["type"] == "https://serverlessworkflow.io/spec/1.0.0/errors/configuration"
    assert "HelloRequest" in bad["detail"]
    unknown = await engine.fault(_call(greeter, "Shout", "{}"))
    assert "has no method 'Shout'" in unknown["detail"]
