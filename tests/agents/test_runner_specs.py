"""The runner keeps each agent version's spec: a newer version is never served the old one."""

from __future__ import annotations

from stigmer.api.v1 import stigmer_pb2 as pb
from tests.conftest import Platform
from tests.handshake.helpers import script

WORKING = {"entrypoint": "stigmer.agents.scripted:agent"}
MISSING = {"entrypoint": "stigmer.agents.scripted:no_such_agent"}


async def run(platform: Platform) -> pb.Execution:
    created = await platform.client.run_agent("kept", script(output="ran"))
    return await platform.client.wait(created.execution.id)


async def test_each_run_gets_the_spec_of_the_version_it_pinned(platform: Platform) -> None:
    first = (await platform.client.apply("agent", "kept", WORKING)).definition.version
    assert (await run(platform)).status.output == "ran"

    await platform.client.apply("agent", "kept", MISSING)
    failed = await run(platform)
    assert failed.status.phase == pb.FAILED
    assert "no_such_agent" in failed.status.error.detail

    again = (await platform.client.apply("agent", "kept", WORKING)).definition.version
    assert again == first  # the same content is the same version, kept from the first run
    done = await run(platform)
    assert done.status.phase == pb.COMPLETED and done.status.output == "ran"
