"""`fork`: run the branches concurrently, as asyncio tasks of the workflow.

Temporal's workflow event loop is deterministic, so concurrent branches replay exactly.
Without `compete`, the output is the list of the branches' outputs in declaration order,
and the first branch to fault cancels the others and faults the fork. With
`compete: true`, the first branch to complete wins: its output is the fork's and the
other branches are cancelled. A faulted branch does not win; the fork faults (with the
first fault) only when every branch has faulted. Branches finishing in the same workflow
step are ranked by declaration order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from temporalio import workflow

from stigmer.contract.problems import Fault
from stigmer.engine.models import ForkTask
from stigmer.engine.pointers import json_pointer
from stigmer.engine.tasktype import Checks, TaskScope, TaskType


async def run(task: ForkTask, input: Any, scope: TaskScope) -> Any:
    fork = task.fork
    base = f"{scope.pointer}/fork/branches"
    branches = [
        asyncio.ensure_future(
            scope.run_alone(item, input, f"{base}/{index}{json_pointer([next(iter(item))])}")
        )
        for index, item in enumerate(fork.branches)
    ]
    try:
        if fork.compete:
            return await _first_completed(branches)
        return await _all(branches)
    finally:
        await _stop(branches)


async def _all(branches: Sequence[asyncio.Future[Any]]) -> list[Any]:
    pending = list(branches)
    while pending:
        _, pending = await workflow.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
        for branch in branches:
            if branch.done() and (failure := branch.exception()) is not None:
                raise failure
    return [branch.result() for branch in branches]


async def _first_completed(branches: Sequence[asyncio.Future[Any]]) -> Any:
    pending = list(branches)
    faults: list[BaseException] = []
    while pending:
        done, pending = await workflow.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for branch in branches:
            if branch not in done:
                continue
            failure = branch.exception()
            if failure is None:
                return branch.result()
            if not isinstance(failure, Fault):
                raise failure  # `then: end` or cancellation: not a branch's fault
            faults.append(failure)
    raise faults[0]


async def _stop(branches: Sequence[asyncio.Future[Any]]) -> None:
    """Cancel the branches still running and wait until they have wound down."""
    running = [branch for branch in branches if not branch.done()]
    for branch in running:
        branch.cancel()
    if running:
        await asyncio.gather(*running, return_exceptions=True)


def check(task: ForkTask, pointer: str, checks: Checks) -> None:
    checks.task_list(task.fork.branches, f"{pointer}/fork/branches", branches=True)


TASK = TaskType(
    kind="fork",
    variant=None,
    model=ForkTask,
    run=run,
    check=check,
    example="""
document: {dsl: '1.0.3', namespace: examples, name: fork, version: '1.0.0'}
do:
  - raiseAlarm:
      fork:
        compete: true
        branches:
          - callNurse:
              set: {called: nurse}
          - callDoctor:
              set: {called: doctor}
""",
)
