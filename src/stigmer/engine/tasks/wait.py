"""`wait`: pause for a duration on a workflow timer; the output is the input.

A Temporal timer survives restarts of the worker and is skipped by the time-skipping
test server; nothing holds a worker slot while it runs.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

from stigmer.engine.models import WaitTask
from stigmer.engine.tasktype import Checks, TaskScope, TaskType, plain
from stigmer.engine.timeouts import duration


async def run(task: WaitTask, input: Any, scope: TaskScope) -> Any:
    pause = duration(
        plain(task.wait),
        lambda raw: scope.evaluate(raw, input),
        what="'wait'",
        instance=scope.pointer,
    )
    await workflow.sleep(pause)
    return input


def check(task: WaitTask, pointer: str, checks: Checks) -> None:
    checks.duration(plain(task.wait), f"{pointer}/wait")


TASK = TaskType(
    kind="wait",
    variant=None,
    model=WaitTask,
    run=run,
    check=check,
    example="""
document: {dsl: '1.0.3', namespace: examples, name: wait, version: '1.0.0'}
do:
  - delay10Seconds:
      wait:
        seconds: 10
""",
)
