"""Each way a call ends is counted where it should be, and read back from /metrics."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import ApiError, Client
from stigmer.temporal import connect_temporal
from tests.handshake.helpers import (
    SCRIPTED,
    agent_task,
    document,
    eventually,
    one_child,
    script,
)
from tests.observability.conftest import Observed, samples, value

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NAME = re.compile(r"\b((?:stigmer|temporal)_[a-z0-9_]+)")


async def run_calls(observed: Observed, client: Client) -> dict[str, str]:
    """Success, failure, cancellation, a caller gone and a token refused; their ids."""
    worker = observed.platform.worker
    await client.apply("agent", "scripted", SCRIPTED)
    ok = await client.run_workflow(document=document(agent_task("ok", script(output="fine"))))
    bad = await client.run_workflow(document=document(agent_task("bad", script(fail="boom"))))
    slow = await client.run_workflow(document=document(agent_task("slow", script(sleep=60))))
    for run in (ok, bad):
        await client.wait(run.execution.id)
    slow_call = await one_child(client, slow.execution.id)

    async def pending_counted() -> bool:
        found = samples(await observed.scrape())
        return value(found, "stigmer_pending_calls", kind="agent", target="scripted") >= 1

    await eventually(pending_counted)
    await worker.report_progress(
        pb.ProgressReport(id=slow_call.id, usage=pb.Usage(input_tokens=120, output_tokens=30))
    )
    async with contextlib.aclosing(client.watch(slow_call.id)) as watching:
        async for _ in watching:
            break  # a watcher hanging up before the end
    await client.cancel(slow_call.id, reason="test")
    await client.wait(slow.execution.id)
    # A caller that is gone: its workflow terminated while the agent works.
    quick = {"heartbeatTimeout": {"seconds": 3}}
    orphaned = await client.run_workflow(
        document=document(agent_task("orphaned", script(sleep=60), **quick))
    )
    gone_call = await one_child(client, orphaned.execution.id)
    temporal = await connect_temporal(observed.platform.settings)
    await temporal.get_workflow_handle(orphaned.execution.status.temporal_workflow_id).terminate(
        reason="test"
    )
    assert (await client.wait(gone_call.id)).status.callback.outcome == pb.CALLBACK_CALLER_GONE
    refused = await worker.run_agent(
        "scripted",
        script(output="x"),
        idempotency_key="metrics-bad-token",
        callback=pb.CallbackRef(task_token=b"\x00not-a-token", workflow_id="nobody"),
    )
    await client.wait(refused.execution.id)
    with pytest.raises(ApiError):
        await client.execution("aex-missing")
    return {"ok": ok.execution.id, "slow": slow_call.id}


async def test_each_ending_is_counted_on_the_endpoint(observed: Observed) -> None:
    async with Client.from_settings(observed.platform.settings) as client:
        before = samples(await observed.scrape())
        await run_calls(observed, client)
        done = time.time()

        async def collected() -> bool:
            found = samples(await observed.scrape())
            return value(found, "stigmer_state_collected_timestamp_seconds") > done

        await eventually(collected)
        after = samples(await observed.scrape())

    def added(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert added("stigmer_callbacks_total", outcome="delivered") == 3  # ok, bad, cancelled
    assert added("stigmer_callbacks_total", outcome="caller_gone") == 1
    assert added("stigmer_callbacks_total", outcome="token_invalid") == 1
    assert added("stigmer_handshake_latency_seconds_count") == 3
    for phase in ("COMPLETED", "FAILED", "CANCELLED"):
        assert added("stigmer_execution_run_seconds_count", kind="agent", phase=phase) >= 1
    assert added("stigmer_agent_tokens_total", agent="scripted", direction="input") == 120
    assert added("stigmer_agent_tokens_total", agent="scripted", direction="output") == 30
    creates = dict(service="ExecutionService", method="Create", code="OK")
    assert added("stigmer_api_requests_total", **creates) >= 5
    assert added("stigmer_api_requests_total", method="Get", code="NOT_FOUND") == 1
    assert added("stigmer_api_request_duration_seconds_count", method="Create") >= 5
    assert added("stigmer_api_requests_total", method="Watch", code="CANCELLED") >= 1
    assert added("stigmer_api_requests_total", method="Watch", code="UNKNOWN") == 0
    # Gauges of stored state: this platform's store alone.
    assert value(after, "stigmer_executions", kind="agent", phase="COMPLETED") == 2
    assert value(after, "stigmer_executions", kind="agent", phase="FAILED") == 1
    assert value(after, "stigmer_executions", kind="workflow", phase="FAILED") == 2
    assert value(after, "stigmer_pending_calls", kind="agent") == 0
    assert value(after, "stigmer_stuck_executions", reason="callback_failed") == 1
    prefix = observed.platform.settings.queue_prefix
    for queue, kind in (("agents", "workflow"), ("engine", "activity"), ("runner", "activity")):
        assert (
            value(after, "stigmer_task_queue_pollers", queue=f"{prefix}stigmer-{queue}", type=kind)
            >= 1
        )
    assert any(name.startswith("temporal_") for name, _ in after), "no Temporal SDK metrics"


def exported_names(text: str) -> set[str]:
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    return names


async def test_every_metric_of_the_alerts_and_dashboard_is_exported(observed: Observed) -> None:
    async with Client.from_settings(observed.platform.settings) as client:
        await run_calls(observed, client)
    exported = exported_names(await observed.scrape())
    for source in (DEPLOY / "prometheus" / "alerts.yml", DEPLOY / "grafana" / "stigmer.json"):
        named = set(NAME.findall(source.read_text()))
        assert named, f"{source} names no metric"
        missing = sorted(name for name in named if name not in exported)
        assert not missing, f"{source.name} uses metrics nothing exports: {missing}"


def test_the_alert_rules_pass_promtool() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian package `prometheus`)")
    checked = subprocess.run(
        [promtool, "check", "rules", str(DEPLOY / "prometheus" / "alerts.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout
