"""A call past the stuck threshold shows in `stigmer doctor` and in metrics, and an
operator finishes it by hand: audited, and its caller told through the token."""

from __future__ import annotations

import asyncio
import json

from prometheus_client import REGISTRY
from typer.testing import CliRunner

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.cli.main import app
from stigmer.client import Client
from stigmer.contract import problems
from stigmer.resources.values import to_json
from tests.handshake.helpers import SCRIPTED, agent_task, document, eventually, one_child, script
from tests.observability.conftest import Observed


async def cli(observed: Observed, *args: str) -> tuple[int, str]:
    settings = observed.platform.settings
    env = {
        "STIGMER_ADDRESS": settings.address,
        "STIGMER_API_TOKEN": settings.api_token.get_secret_value() if settings.api_token else "",
    }
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)
    return result.exit_code, result.output


async def test_a_stuck_call_is_listed_counted_and_finished_by_hand(observed: Observed) -> None:
    async with Client.from_settings(observed.platform.settings) as client:
        await client.apply("agent", "scripted", SCRIPTED)
        to_fail = await client.run_workflow(document=document(agent_task("a", script(sleep=120))))
        to_complete = await client.run_workflow(
            document=document(agent_task("b", script(sleep=120)))
        )
        failing = await one_child(client, to_fail.execution.id)
        completing = await one_child(client, to_complete.execution.id)

        async def both_stuck() -> bool:
            stuck = {item.execution.id for item in (await client.list_stuck()).stuck}
            return {failing.id, completing.id} <= stuck

        await eventually(both_stuck, seconds=20)
        code, table = await cli(observed, "doctor")
        assert code == 1
        assert failing.id in table and "in_progress" in table and "stigmer executions" in table
        code, listed = await cli(observed, "doctor", "-o", "json")
        report = json.loads(listed)
        assert report["stuck_after_seconds"] == 3
        entry = next(e for e in report["stuck"] if e["id"] == failing.id)
        assert entry["reason"] == "in_progress" and entry["callback"]["outcome"] == "WAITING"
        assert entry["age_seconds"] >= 3 and entry["callback"]["token_preview"].startswith("tok_")

        def stuck_gauge() -> float:
            found = REGISTRY.get_sample_value("stigmer_stuck_executions", {"reason": "in_progress"})
            return found or 0.0

        async def counted() -> bool:
            # The two agent calls, and their calling workflows once those pass the threshold.
            return stuck_gauge() >= 2

        await eventually(counted, seconds=10)

        code, out = await cli(
            observed, "executions", "fail", failing.id, "--reason", "runner host lost"
        )
        assert code == 0, out
        code, out = await cli(
            observed,
            "executions",
            "complete",
            completing.id,
            "--output",
            "written by hand",
            "--reason",
            "agent output recovered from its logs",
        )
        assert code == 0, out
        failed_run = await client.wait(to_fail.execution.id)
        completed_run = await client.wait(to_complete.execution.id)
        failed = await client.execution(failing.id)
        completed = await client.execution(completing.id)

        async def cleared() -> bool:
            return stuck_gauge() == 0

        await eventually(cleared, seconds=10)
        code, out = await cli(observed, "executions", "fail", failing.id, "--reason", "again")

    assert failed.status.phase == pb.FAILED and failed.status.error.type == problems.OPERATOR
    assert failed.status.callback.outcome == pb.CALLBACK_DELIVERED
    audit = failed.status.messages[-1]
    assert audit.role == "system" and "runner host lost" in audit.content
    assert audit.data.struct_value.fields["operator"].string_value
    assert audit.HasField("at")
    assert failed_run.status.phase == pb.FAILED
    assert "runner host lost" in failed_run.status.error.detail
    assert completed.status.phase == pb.COMPLETED
    assert completed.status.callback.outcome == pb.CALLBACK_DELIVERED
    assert completed_run.status.phase == pb.COMPLETED
    assert "written by hand" in json.dumps(to_json(completed_run.status.structured))
    assert code == 1 and "nothing to finish" in out  # told once: a second action is refused
    logs = observed.logs.getvalue()
    assert '"event": "execution stuck"' in logs
    assert '"event": "execution finished by hand"' in logs and '"action": "fail"' in logs
