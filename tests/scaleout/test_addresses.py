"""A client given several API addresses: each call at the next in turn, the next one when
an address cannot be reached, and bad address lists refused by position."""

from __future__ import annotations

import pytest

from stigmer.client import Client, PlaintextRefused
from stigmer.local.embedded import free_port
from tests.conftest import Platform


async def test_calls_fail_over_from_an_address_nobody_listens_on(platform: Platform) -> None:
    dead = f"127.0.0.1:{free_port()}"
    async with Client(f"{dead},{platform.settings.address}") as client:
        for _ in range(4):  # the dead address comes up in turn, and is passed over each time
            assert await client.list("agent") == []
        await platform.client.apply(
            "agent", "helper", {"entrypoint": "stigmer.agents.scripted:agent"}
        )
        created = await client.run_agent("helper", '{"output": "hi"}')
        ended = await client.wait(created.execution.id)
        assert ended.status.output == "hi"


def test_an_empty_entry_in_an_address_list_is_refused_by_position() -> None:
    with pytest.raises(ValueError, match="entry 2 is empty"):
        Client("127.0.0.1:7234,,127.0.0.1:7235")


def test_a_token_is_not_sent_in_plaintext_to_any_remote_address_of_a_list() -> None:
    with pytest.raises(PlaintextRefused, match=r"api-2\.example:7234"):
        Client("127.0.0.1:7234,api-2.example:7234", token="secret")
