"""A long run continues as new and stays one execution: same workflow id, the record
IN_PROGRESS until its end, its progress summarized across runs, each run replayable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from temporalio.client import WorkflowExecution, WorkflowExecutionStatus, WorkflowHistory

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.credentials import payload_keyring
from stigmer.engine import workflow
from stigmer.local.embedded import EmbeddedTemporal
from stigmer.resources.values import to_json
from stigmer.temporal import connect_temporal
from tests.conftest import running_platform
from tests.handshake.helpers import document, eventually, output_of
from tests.support.replay import replayer

ROUNDS = 20
BUDGET = 40
"""History events per run: a wait per round makes about six, so the run continues as
new every five rounds or so."""

LOOP: dict[str, Any] = {
    "rounds": {
        "for": {"in": "${ [range(.rounds)] }", "each": "n"},
        "do": [
            {"pause": {"wait": {"milliseconds": 1}}},
            {
                "count": {
                    "do": [
                        {
                            "add": {
                                "set": {"sum": "${ (.sum // 0) + $n }", "last": "${ $n }"},
                                "export": {
                                    "as": "${ $context + {seen: (($context.seen // 0) + 1)} }"
                                },
                            }
                        }
                    ]
                }
            },
        ],
    }
}
LISTEN = {"ping": {"listen": {"to": {"one": {"with": {"type": "ping"}}}}}}
TOTAL = {"total": {"set": {"seen": "${ $context.seen }", "ping": "${ .[0] }"}}}


async def test_a_long_loop_continues_as_new_and_stays_one_execution(
    temporal_server: EmbeddedTemporal, tmp_path: Path
) -> None:
    async with running_platform(
        temporal_server, tmp_path / "data", engine_history_budget=BUDGET
    ) as platform:
        client = platform.client
        started = await client.run_workflow(
            document=document(LOOP, LISTEN, TOTAL), input={"rounds": ROUNDS}
        )
        execution_id = started.execution.id
        # Sent straight to the run long before it listens: it waits in the inbox, which
        # each run hands to the next.
        await client.publish_event({"type": "ping", "source": "test", "data": 7}, execution_id)
        phases = []
        async for seen in client.watch(execution_id):
            phases.append(seen.status.phase)
        done = seen
        assert done.status.phase == pb.COMPLETED, done.status.error
        assert output_of(done) == {"seen": ROUNDS, "ping": 7}
        assert set(phases[:-1]) <= {pb.PENDING, pb.IN_PROGRESS}, phases

        tasks = {task.path: task for task in done.status.tasks}
        add = tasks["/do/0/rounds/do/1/count/do/0/add"]
        assert (add.status, add.runs) == ("completed", ROUNDS)
        assert to_json(add.output) == {"sum": sum(range(ROUNDS)), "last": ROUNDS - 1}
        loop = tasks["/do/0/rounds"]
        assert (loop.status, loop.runs, loop.iteration) == ("completed", 1, 0)

        temporal = await connect_temporal(platform.settings)
        workflow_id = done.status.temporal_workflow_id
        await temporal.get_workflow_handle(workflow_id).result()  # follows the runs
        runs: list[WorkflowExecution] = []

        async def listed() -> bool:
            runs[:] = [
                run async for run in temporal.list_workflows(f"WorkflowId = '{workflow_id}'")
            ]
            return WorkflowExecutionStatus.RUNNING not in [run.status for run in runs]

        await eventually(listed)  # visibility lags the runs a little
        statuses = [run.status for run in runs]
        assert statuses.count(WorkflowExecutionStatus.CONTINUED_AS_NEW) >= 2, statuses
        assert statuses.count(WorkflowExecutionStatus.COMPLETED) == 1, statuses

        replaying = replayer(payload_keyring(platform.settings), workflow.WorkflowExecution)
        for run in runs:
            handle = temporal.get_workflow_handle(workflow_id, run_id=run.run_id)
            history: WorkflowHistory = await handle.fetch_history()
            await replaying.replay_workflow(history)
