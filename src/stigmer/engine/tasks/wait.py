"""`wait`: pause for a duration on a workflow timer; the output is the input.

A Temporal timer survives restarts of the worker and is skipped by the time-skipping
test server; nothing holds a worker slot while it runs.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

from stigmer.engine.tasks import TaskScope
from stigmer.engine.timeouts import duration


async def execute(task: dict[str, Any], input: Any, scope: TaskScope) -> Any:
    pause = duration(
        task["wait"],
        lambda raw: scope.evaluator.template(raw, input, scope.args, instance=scope.pointer),
        what="'wait'",
        instance=scope.pointer,
    )
    await workflow.sleep(pause)
    return input
