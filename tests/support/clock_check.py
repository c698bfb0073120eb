"""A workflow reporting both readings of its clock (see `interpreter._clock_here`).

Kept in a module of its own: the workflow sandbox re-imports the module a workflow is
defined in.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow

CLOCK_CHECK = "stigmer-test/clock-check"


@workflow.defn(name=CLOCK_CHECK)
class ClockCheck:
    @workflow.run
    async def run(self) -> list[float]:
        readings = [asyncio.get_running_loop().time(), workflow.time()]
        await workflow.sleep(3)
        return [*readings, asyncio.get_running_loop().time(), workflow.time()]
