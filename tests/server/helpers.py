"""What the API tests share: an API of a test's own, and reading what a call failed with."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

import grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from stigmer.client import ApiError
from stigmer.config import Settings, load_settings
from stigmer.local.embedded import free_ports
from stigmer.server.app import ApiServer

SCRIPTED = {"entrypoint": "stigmer.agents.scripted:agent"}
TOKEN = "s3cret-api-token"
WAIT = 60


async def failure(call: Awaitable[object]) -> tuple[grpc.StatusCode, str]:
    """The status code and message a call through the Client or a raw stub fails with."""
    try:
        await asyncio.wait_for(call, WAIT)
    except ApiError as exc:
        return exc.code, str(exc)
    except grpc.aio.AioRpcError as exc:
        return exc.code(), exc.details() or ""
    raise AssertionError("the call succeeded")


async def list_services(address: str, metadata: tuple[tuple[str, str], ...] = ()) -> set[str]:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        call = stub.ServerReflectionInfo(iter([request]), metadata=metadata, timeout=5)
        async for answer in call:
            return {service.name for service in answer.list_services_response.service}
    return set()


def api_settings(data_dir: Path, **extra: object) -> Settings:
    """An API of its own; Temporal at a loopback port nothing listens on."""
    port, unreachable = free_ports(2)
    values: dict[str, object] = {
        "data_dir": data_dir,
        "port": port,
        "address": f"127.0.0.1:{port}",
        "temporal_address": f"127.0.0.1:{unreachable}",
        "metrics_port": 0,
    }
    values.update(extra)
    return load_settings(**values)


async def running(settings: Settings) -> AsyncIterator[ApiServer]:
    server = ApiServer(settings)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
