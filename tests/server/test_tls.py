"""Off loopback the API is served over TLS with a token; clients trust its CA bundle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from stigmer.client import ApiError, ApiUnreachable, Client
from stigmer.config import Settings
from tests.server.helpers import TOKEN, api_settings, running
from tests.support.tls import self_signed


@pytest.fixture
async def secured(tmp_path: Path) -> AsyncIterator[Settings]:
    cert, key = self_signed(tmp_path)
    settings = api_settings(
        tmp_path / "data", api_token=TOKEN, tls_cert=cert, tls_key=key, tls_ca=cert
    )
    async for _ in running(settings):
        yield settings


async def test_tls_with_token_serves_and_refuses_plaintext(secured: Settings) -> None:
    async with Client.from_settings(secured) as client:
        assert await client.list("agent") == []
    assert secured.tls_ca is not None
    async with Client(secured.address, tls_ca=secured.tls_ca) as tokenless:
        with pytest.raises(ApiError) as refused:
            await tokenless.list("agent")
        assert refused.value.code == grpc.StatusCode.UNAUTHENTICATED
    async with Client(secured.address, token=TOKEN) as plaintext:
        with pytest.raises((ApiUnreachable, ApiError)):
            await plaintext.list("agent")
