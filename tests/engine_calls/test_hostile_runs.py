"""Values no run can use end the run, once, with a clear error: refused by the API when
they are written in the document, a FAILED run when an expression yields them. Never a
workflow task failing in a loop, never an activity retrying forever. On the dev server."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import grpc
import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import ApiError
from stigmer.contract.inputs import WorkflowRunInput
from stigmer.contract.problems import CONFIGURATION
from stigmer.engine.loader import load_text
from stigmer.engine.validation import parse_workflow
from tests.conftest import Platform
from tests.handshake.helpers import SCRIPTED, script
from tests.support.document_only import DOCUMENT_ONLY
from tests.support.engine import Engine, document

pytestmark = pytest.mark.temporal

ENDS_WITHIN = 60.0
"""Seconds a run that cannot go on may take to end; a task failing in a loop never does."""

BOOM = document(
    """
  - boom:
      raise:
        error: {type: 'https://example.com/errors/boom', status: 3000000000}
"""
)


async def ended_fault(engine: Engine, flow: str, input: Any = None) -> dict[str, Any]:
    return await asyncio.wait_for(engine.fault(flow, input), ENDS_WITHIN)


async def test_a_wait_an_expression_makes_too_long_fails_the_run(engine: Engine) -> None:
    flow = document("  - pause:\n      wait: ${ .pause }\n")
    error = await ended_fault(engine, flow, {"pause": {"days": 1_000_000_000}})
    assert (error["type"], error["instance"]) == (CONFIGURATION, "/do/0/pause")
    assert "longer than the longest duration Temporal keeps" in error["detail"]


async def test_a_timeout_an_expression_makes_zero_fails_the_run(engine: Engine) -> None:
    flow = document("  - bounded:\n      set: {x: 1}\n      timeout: {after: '${ .limit }'}\n")
    error = await ended_fault(engine, flow, {"limit": "PT0S"})
    assert (error["type"], error["instance"]) == (CONFIGURATION, "/do/0/bounded")
    assert "must be longer than zero" in error["detail"]


async def test_an_unvalidated_error_status_fails_the_run_clearly(
    engine: Engine, temporal_client: Client
) -> None:
    # A document that reached a worker without validation still ends with an error the
    # platform can record, naming what is wrong.
    with pytest.raises(WorkflowFailureError) as failure:
        await asyncio.wait_for(
            temporal_client.execute_workflow(
                DOCUMENT_ONLY,
                WorkflowRunInput(f"test-{uuid.uuid4()}", load_text(BOOM).data),
                id=f"hostile-{uuid.uuid4()}",
                task_queue=engine.queue,
            ),
            ENDS_WITHIN,
        )
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    error = cause.details[0]
    assert (error["type"], error["status"], error["instance"]) == (CONFIGURATION, 400, "/do/0/boom")
    assert "'raise.error.status': 3000000000 is not an HTTP status" in error["detail"]


async def test_the_api_refuses_an_error_status_outside_http_statuses(platform: Platform) -> None:
    spec = load_text(BOOM).data
    for attempt in (
        platform.client.run_workflow(document=spec),
        platform.client.apply("workflow", "boom", spec),
    ):
        with pytest.raises(ApiError) as refused:
            await attempt
        assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert ".do.0.boom.raise.error.status" in str(refused.value)
        assert "3000000000 is not an HTTP status" in str(refused.value)
    assert not (await platform.client.list_executions()).executions


async def test_an_agent_heartbeat_an_expression_makes_too_short_fails_the_run(
    platform: Platform,
) -> None:
    await platform.client.apply("agent", "scripted", SCRIPTED)
    flow = parse_workflow(
        document(
            f"""
  - ask:
      call: agent
      with:
        agent: scripted
        message: '{script(steps=1)}'
        heartbeatTimeout: ${{ .beat }}
"""
        )
    )
    run = await platform.client.run_workflow(document=flow, input={"beat": {"milliseconds": 100}})
    done = await asyncio.wait_for(platform.client.wait(run.execution.id), ENDS_WITHIN)
    assert done.status.phase == pb.FAILED
    assert done.status.error.type == CONFIGURATION
    assert done.status.error.instance == "/do/0/ask"
    assert "'heartbeatTimeout'" in done.status.error.detail
    assert "at least 1 s" in done.status.error.detail
    assert not (await platform.client.list_executions(kind="AGENT_EXECUTION")).executions
