"""A secret a run resolved is nowhere in what a request derived from it either.

The secret goes into a URL's user part, from which httpx makes a Basic header that the
echo service answers with; the same header is built in jq, and base64 of other text around
the secret. After a call answered 200 and one answered 401, neither the secret nor the
Basic encoding of `u:SECRET` is in the output, the execution records, any API answer, any
log line, the Temporal histories, the SQLite file and its WAL, or the console's pages.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.local.embedded import EmbeddedTemporal
from stigmer.resources.values import to_json
from tests.security.platforms import API_KEY, ServedPlatform
from tests.security.test_nothing_leaks import every_answer, history
from tests.support.echo import running_echo
from tests.support.leaks import leaked

pytestmark = [pytest.mark.temporal, pytest.mark.timeout(300)]

BASIC = base64.b64encode(f"u:{API_KEY}".encode()).decode()
"""The Authorization header's credentials httpx sends for `http://u:SECRET@...`."""


@pytest.fixture(scope="module")
def echo() -> Iterator[str]:
    with running_echo() as base:
        yield base


def workflow(echo: str, status: int) -> dict[str, object]:
    secret = '$secrets["api-key"]'
    host = echo.removeprefix("http://")
    user_part = {
        "call": "http",
        "with": {
            "method": "get",
            "endpoint": f'${{ "http://u:" + ({secret} | @uri) + "@{host}/{status}/p" }}',
            "output": "response",
        },
    }
    built = {
        "call": "http",
        "with": {
            "method": "post",
            "endpoint": f"{echo}/200/built",
            "headers": {"x-basic": f'${{ "Basic " + ("u:" + {secret} | @base64) }}'},
            "body": {"wrapped": f'${{ "key=" + {secret} + ";" | @base64 }}'},
            "output": "response",
        },
    }
    return {
        "document": {"dsl": "1.0.0", "namespace": "test", "name": "derived", "version": "1.0.0"},
        "use": {"secrets": ["api-key"]},
        "do": [{"built": built}, {"userinfo": user_part}],
    }


async def console_pages(platform: ServedPlatform, executions: list[pb.Execution]) -> bytes:
    """Every page the console shows of these executions, signed in."""
    async with httpx.AsyncClient(base_url=platform.console) as http:
        signed_in = await http.post(
            "/login",
            data={"token": platform.user_token, "next": "/executions"},
            headers={"origin": platform.console},
        )
        assert signed_in.status_code == 303
        pages = [await http.get("/executions"), await http.get("/stuck")]
        for execution in executions:
            pages.append(await http.get(f"/executions/{execution.id}"))
            pages.append(await http.get(f"/executions/{execution.id}/result"))
    assert all(page.status_code == 200 for page in pages), [p.status_code for p in pages]
    return b"\n".join(page.content for page in pages)


async def test_a_secret_in_a_urls_user_part_and_its_basic_header_are_nowhere(
    guarded_served: ServedPlatform, temporal_server: EmbeddedTemporal, echo: str
) -> None:
    platform = guarded_served
    async with platform.client() as client:
        runs = [await client.run_workflow(document=workflow(echo, s)) for s in (200, 401)]
        succeeded, failed = [await client.wait(run.execution.id) for run in runs]
        records = await every_answer(client, [succeeded, failed])
        result = await client.result(succeeded.id)
    for execution in (succeeded, failed):
        workflow_id = execution.status.temporal_workflow_id
        records[f"history {workflow_id}"] = history(temporal_server, workflow_id, platform)
    records["console"] = await console_pages(platform, [succeeded, failed])
    records["logs"] = platform.logs()
    for name in ("stigmer.db", "stigmer.db-wal"):
        if (platform.data_dir / name).exists():
            records[name] = (platform.data_dir / name).read_bytes()

    assert succeeded.status.phase == pb.COMPLETED, succeeded.status.error
    output = to_json(result.structured)
    host = echo.removeprefix("http://")
    assert output["request"]["uri"] == f"http://u:***@{host}/200/p"
    assert output["content"]["headers"]["authorization"] == "Basic dT***="
    assert failed.status.phase == pb.FAILED
    assert failed.status.error.status == 401
    assert f"http://u:***@{host}/401/p answered 401" in failed.status.error.detail
    assert "Basic dT***=" in failed.status.error.detail
    stored = [name for name in ("stigmer.db", "stigmer.db-wal") if name in records]
    assert any(b"Basic dT***=" in records[name] for name in stored), "the store was read"
    assert b"Basic dT***=" in records["console"]
    histories = b"".join(v for k, v in records.items() if k.startswith("history"))
    assert b"Basic dT***=" in histories  # the payloads were read, decoded

    assert leaked(API_KEY, records) == []
    assert leaked(BASIC, records) == []
