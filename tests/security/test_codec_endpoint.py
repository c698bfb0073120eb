"""The console's codec endpoint: histories decoded for whoever the API admits, and for no one
else; it opens, and never seals, so it helps no one make a payload the platform takes."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client as TemporalClient

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.config import load_settings
from stigmer.local.embedded import EmbeddedTemporal
from tests.handshake.helpers import agent_task, document, script
from tests.security.platforms import SCRIPTED, ServedPlatform

pytestmark = [pytest.mark.temporal, pytest.mark.timeout(300)]

TEMPORAL_CLI = Path(sys.executable).with_name("temporal")
WORDS = "words only the keys can read"
WAIT = 60


async def sealed_history(platform: ServedPlatform, temporal: EmbeddedTemporal) -> str:
    """The workflow id of a finished run that said `WORDS`."""
    async with platform.client() as client:
        await client.apply("agent", "scripted", SCRIPTED)
        run = await client.run_workflow(document=document(agent_task("ask", script(output=WORDS))))
        async with asyncio.timeout(WAIT):
            done = await client.wait(run.execution.id)
    assert done.status.phase == pb.COMPLETED, done.status.error
    return done.status.temporal_workflow_id


def request_of(payloads: list[dict[str, object]]) -> dict[str, object]:
    return {"payloads": payloads}


async def first_sealed(temporal: EmbeddedTemporal, workflow_id: str) -> dict[str, object]:
    """The sealed input of the run, as the codec protocol carries payloads."""
    frontend = await TemporalClient.connect(temporal.address)
    history = await frontend.get_workflow_handle(workflow_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    payload = started.input.payloads[0]
    assert payload.metadata["encoding"] == b"binary/encrypted"
    return {
        "metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
        "data": base64.b64encode(payload.data).decode(),
    }


async def test_the_codec_opens_sealed_payloads_for_the_token_only(
    guarded_served: ServedPlatform, temporal_server: EmbeddedTemporal
) -> None:
    platform = guarded_served
    workflow_id = await sealed_history(platform, temporal_server)
    sealed = await first_sealed(temporal_server, workflow_id)
    plain = {"metadata": {"encoding": base64.b64encode(b"json/plain").decode()}, "data": "IjEi"}
    url = f"{platform.console}/codec/decode"
    body = request_of([sealed, plain])
    async with httpx.AsyncClient(timeout=WAIT) as http:
        assert (await http.post(url, json=body)).status_code == 401
        wrong = {"authorization": "Bearer not-the-token-at-all-xx"}
        assert (await http.post(url, json=body, headers=wrong)).status_code == 401
        token = {"authorization": f"Bearer {platform.user_token}"}
        elsewhere = {**token, "origin": "http://evil.example"}
        assert (await http.post(url, json=body, headers=elsewhere)).status_code == 403
        assert (
            await http.post(f"{platform.console}/codec/encode", json=body, headers=token)
        ).status_code in (404, 405)
        answer = await http.post(url, json=body, headers=token)
    assert answer.status_code == 200, answer.text
    opened, untouched = answer.json()["payloads"]
    assert base64.b64decode(opened["metadata"]["encoding"]) == b"json/plain"
    assert WORDS in base64.b64decode(opened["data"]).decode()  # the run's input
    assert untouched == plain


async def test_temporal_workflow_show_decodes_through_the_console(
    guarded_served: ServedPlatform, temporal_server: EmbeddedTemporal
) -> None:
    platform = guarded_served
    workflow_id = await sealed_history(platform, temporal_server)
    command = [str(TEMPORAL_CLI), "workflow", "show", "--workflow-id", workflow_id]
    command += ["--address", temporal_server.address, "--output", "json"]

    def shown(*extra: str) -> str:
        done = subprocess.run(
            [*command, *extra], capture_output=True, text=True, timeout=WAIT, check=False
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    codec = ["--codec-endpoint", f"{platform.console}/codec"]
    decoded = await asyncio.to_thread(
        shown, *codec, "--codec-auth", f"Bearer {platform.user_token}"
    )
    assert WORDS.encode() in payload_data(decoded)
    assert WORDS.encode() not in payload_data(await asyncio.to_thread(shown))


def payload_data(history_json: str) -> bytes:
    """Every payload's data in a history shown as JSON, base64-decoded."""
    found: list[bytes] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if "metadata" in value and isinstance(value.get("data"), str):
                found.append(base64.b64decode(value["data"]))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(json.loads(history_json))
    assert found, "the history shows payloads"
    return b"\n".join(found)


def test_the_embedded_temporal_ui_decodes_through_the_console(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, console_port=18234, temporal_ui_port=18233)
    args = EmbeddedTemporal.from_settings(settings)._server_args()
    assert args[args.index("--ui-codec-endpoint") + 1] == "http://127.0.0.1:18234/codec"
    headless = load_settings(data_dir=tmp_path, console_port=0)
    assert "--ui-codec-endpoint" not in EmbeddedTemporal.from_settings(headless)._server_args()
