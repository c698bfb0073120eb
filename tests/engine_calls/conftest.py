"""Workers running the engine's workflow with every task type's activities, on the
session's Temporal dev server (real time: the calls talk to real loopback servers)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.client import Client

from stigmer.local.embedded import EmbeddedTemporal
from tests.standins.petstore import running_petstore
from tests.support.engine import Engine, running_engine


@pytest.fixture(scope="session")
async def temporal_client(temporal_server: EmbeddedTemporal) -> Client:
    return await Client.connect(temporal_server.address)


@pytest.fixture(scope="session")
async def engine(
    temporal_client: Client, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Engine]:
    """An engine whose workers allow the processes these tests start (the shell, this
    Python, node) and the files under the tests' temporary folders and this folder (the
    proto), with a data dir for secrets."""
    data_dir = tmp_path_factory.mktemp("calls")
    node = shutil.which("node")
    async with running_engine(
        temporal_client,
        data_dir,
        allow_processes=["/bin/sh", sys.executable, *([node] if node else [])],
        allow_files=[tmp_path_factory.getbasetemp(), Path(__file__).parent],
    ) as found:
        yield found


@pytest.fixture(scope="session")
async def locked_engine(
    temporal_client: Client, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Engine]:
    """An engine on default settings: no process and no file is allowed."""
    data_dir = tmp_path_factory.mktemp("locked")
    async with running_engine(temporal_client, data_dir) as found:
        yield found


@pytest.fixture(scope="session")
def petstore() -> Iterator[str]:
    with running_petstore() as base:
        yield base
