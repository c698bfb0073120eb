"""Who may reach the API, and what Create says when Temporal cannot be reached."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import ApiError, Client
from stigmer.config import Settings
from stigmer.server.app import AccessError, ApiServer
from tests.server.helpers import (
    SCRIPTED,
    TOKEN,
    WAIT,
    api_settings,
    failure,
    list_services,
    running,
)


@pytest.fixture
async def guarded(tmp_path: Path) -> AsyncIterator[Settings]:
    """An API that requires a bearer token."""
    settings = api_settings(tmp_path / "data", api_token=TOKEN)
    async for _ in running(settings):
        yield settings


@pytest.fixture
async def without_temporal(tmp_path: Path) -> AsyncIterator[Settings]:
    settings = api_settings(tmp_path / "data")
    async for _ in running(settings):
        yield settings


def test_listening_beyond_loopback_needs_a_token(tmp_path: Path) -> None:
    for token in (None, "", "  "):
        settings = api_settings(tmp_path / "data", host="0.0.0.0", api_token=token)
        with pytest.raises(AccessError, match=r"0\.0\.0\.0.*without a token.*STIGMER_API_TOKEN"):
            ApiServer(settings)
    assert not (tmp_path / "data").exists()


def test_listening_beyond_loopback_needs_tls_or_the_plaintext_opt_in(tmp_path: Path) -> None:
    settings = api_settings(tmp_path / "data", host="0.0.0.0", api_token=TOKEN)
    with pytest.raises(AccessError, match=r"plaintext on 0\.0\.0\.0.*--allow-plaintext"):
        ApiServer(settings)
    ApiServer(
        api_settings(tmp_path / "data", host="0.0.0.0", api_token=TOKEN, allow_plaintext=True)
    )


async def test_calls_without_the_token_are_unauthenticated(guarded: Settings) -> None:
    async with Client(guarded.address) as anonymous:
        code, message = await failure(anonymous.list())
        assert code == grpc.StatusCode.UNAUTHENTICATED
        assert "bearer token" in message
        with pytest.raises(ApiError) as caught:
            async with asyncio.timeout(WAIT):
                async for _ in anonymous.watch("aex-anything"):
                    pass
        assert caught.value.code == grpc.StatusCode.UNAUTHENTICATED
    async with Client(guarded.address, token="wrong") as impostor:
        code, _ = await failure(impostor.apply("agent", "helper", SCRIPTED))
        assert code == grpc.StatusCode.UNAUTHENTICATED
    async with Client(guarded.address, token=TOKEN) as trusted:
        assert (await trusted.apply("agent", "helper", SCRIPTED)).changed
        assert [d.metadata.name for d in await trusted.list()] == ["helper"]


async def test_reflection_needs_the_token(guarded: Settings) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await asyncio.wait_for(list_services(guarded.address), WAIT)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    authorized = await asyncio.wait_for(
        list_services(guarded.address, (("authorization", f"Bearer {TOKEN}"),)), WAIT
    )
    assert "stigmer.v1.ExecutionService" in authorized


async def test_health_stays_open_without_the_token(guarded: Settings) -> None:
    async with grpc.aio.insecure_channel(guarded.address) as channel:
        answer = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=5
        )
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


async def test_create_without_temporal_is_unavailable_and_recorded_failed(
    without_temporal: Settings,
) -> None:
    async with Client(without_temporal.address) as client:
        await client.apply("agent", "helper", SCRIPTED)
        code, message = await failure(client.run_agent("helper", "hi"))
        assert code == grpc.StatusCode.UNAVAILABLE
        assert f"Temporal is not reachable at {without_temporal.temporal_address}" in message
        assert "stigmer server" in message
        [execution] = (await client.list_executions()).executions
        assert execution.status.phase == pb.FAILED
        assert execution.status.error.title == "Execution could not start"
        assert without_temporal.temporal_address in execution.status.error.detail


async def test_create_with_a_key_without_temporal_stays_pending_for_the_retry(
    without_temporal: Settings,
) -> None:
    """The caller retries with the same key; that retry starts the same execution."""
    async with Client(without_temporal.address) as client:
        await client.apply("agent", "helper", SCRIPTED)
        for _ in range(2):
            code, _ = await failure(client.run_agent("helper", "hi", idempotency_key="k"))
            assert code == grpc.StatusCode.UNAVAILABLE
        [execution] = (await client.list_executions()).executions
        assert execution.status.phase == pb.PENDING
