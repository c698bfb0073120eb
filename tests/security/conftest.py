"""The process platforms the security tests share: started once for this folder."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from stigmer.local.embedded import EmbeddedTemporal
from tests.security.platforms import (
    API_KEY,
    ServedPlatform,
    default_platform,
    guarded_platform,
    public_platform,
    started,
)


@pytest.fixture(scope="package")
async def default_served(
    temporal_server: EmbeddedTemporal, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServedPlatform]:
    platform = default_platform(temporal_server.address, tmp_path_factory.mktemp("default"))
    await started(platform)
    try:
        yield platform
    finally:
        await platform.stop()


@pytest.fixture(scope="package")
async def public_served(
    temporal_server: EmbeddedTemporal, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServedPlatform]:
    """Its engine worker holds the secret the leak tests look for."""
    platform = public_platform(
        temporal_server.address,
        tmp_path_factory.mktemp("public"),
        {"STIGMER_SECRET_API_KEY": API_KEY},
    )
    await started(platform)
    try:
        yield platform
    finally:
        await platform.stop()


@pytest.fixture(scope="package")
async def guarded_served(
    temporal_server: EmbeddedTemporal, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServedPlatform]:
    """On loopback with a user token from a file, its console served: its workers hold the
    secret the leak tests look for."""
    platform = guarded_platform(temporal_server.address, tmp_path_factory.mktemp("guarded"))
    await started(platform)
    try:
        yield platform
    finally:
        await platform.stop()


@pytest.fixture(params=["default_served", "public_served"])
def served(request: pytest.FixtureRequest) -> ServedPlatform:
    """Each platform in turn: a test that must hold on both."""
    platform: ServedPlatform = request.getfixturevalue(request.param)
    return platform
