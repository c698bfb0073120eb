"""The interpreter reads the workflow clock from the workflow's event loop: the two agree."""

from __future__ import annotations

import uuid

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from stigmer.workers import sandbox
from tests.support.clock_check import ClockCheck


async def test_the_event_loop_keeps_the_workflow_clock(temporal_env: WorkflowEnvironment) -> None:
    queue = f"clock-{uuid.uuid4()}"
    async with Worker(
        temporal_env.client, task_queue=queue, workflows=[ClockCheck], workflow_runner=sandbox()
    ):
        (
            loop_before,
            clock_before,
            loop_after,
            clock_after,
        ) = await temporal_env.client.execute_workflow(ClockCheck.run, id=queue, task_queue=queue)
    assert loop_before == clock_before
    assert loop_after == clock_after
    assert clock_after - clock_before >= 3  # the clock moved with the timer, both readings too
