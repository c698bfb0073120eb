"""Callers of an agent, ours and the alternatives, as plain Temporal workflows.

One caller workflow, four ways of waiting for the agent, each an activity on a queue of
its own with the same number of slots:

- `handshake`: the platform's own caller (`call_from_workflow` and the real caller
  activity): hand the token to the execution and go pending.
- `polling`: the old design: create the execution, then poll it every 2 s, heartbeating,
  holding the slot until it ends.
- `blocking`: create the execution and wait on its result stream, holding the slot.
- `bare`: no platform at all: the activity hands its token to a coroutine in this process
  that waits the same time and completes it (the floor of async completion).

The agent of the first three is the platform's scripted agent, run by its own workers.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client as TemporalClient
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from benchmarks.common import AGENT, activity_times, bounded, ms, percentiles, script
from benchmarks.counting import SlotCounter
from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import WorkerClient
from stigmer.contract.inputs import CallRequest
from stigmer.contract.names import CALL_AGENT_ACTIVITY
from stigmer.handshake.caller import CallerActivities, call_from_workflow
from stigmer.workers import PASSTHROUGH

MODES = ("handshake", "polling", "blocking", "bare")
POLL_EVERY = 2.0
FINAL = (pb.COMPLETED, pb.FAILED, pb.CANCELLED)


@dataclass
class Call:
    mode: str
    wait: float
    """How long the agent (or, for `bare`, the completing coroutine) waits."""


def _activity_name(mode: str) -> str:
    return CALL_AGENT_ACTIVITY if mode == "handshake" else f"bench/{mode}"


@workflow.defn(name="bench/caller")
class BenchCaller:
    @workflow.run
    async def run(self, call: Call) -> str:
        if call.mode == "handshake":
            request = CallRequest(kind="agent", target=AGENT, message=script(call.wait))
            return (await call_from_workflow(request)).execution_id
        result: str = await workflow.execute_activity(
            _activity_name(call.mode),
            call,
            start_to_close_timeout=timedelta(hours=1),
            heartbeat_timeout=timedelta(seconds=30) if call.mode == "polling" else None,
        )
        return result


class Alternatives:
    """The activities of the three alternatives."""

    def __init__(self, api: WorkerClient, temporal: TemporalClient) -> None:
        self.api = api
        self.temporal = temporal
        self.ended: dict[str, datetime] = {}
        """`bare`: when each completing coroutine's wait ended, by caller workflow id."""
        self._completers: set[asyncio.Task[None]] = set()

    async def _create(self, call: Call) -> str:
        info = activity.info()
        created = await self.api.run_agent(
            AGENT, script(call.wait), idempotency_key=f"bench/{info.workflow_id}"
        )
        return created.execution.id

    @activity.defn(name="bench/polling")
    async def polling(self, call: Call) -> str:
        execution_id = await self._create(call)
        while True:
            activity.heartbeat()
            if (await self.api.execution(execution_id)).status.phase in FINAL:
                return execution_id
            await asyncio.sleep(POLL_EVERY)

    @activity.defn(name="bench/blocking")
    async def blocking(self, call: Call) -> str:
        execution_id = await self._create(call)
        await self.api.wait(execution_id)
        return execution_id

    @activity.defn(name="bench/bare")
    async def bare(self, call: Call) -> str:
        info = activity.info()
        task = asyncio.create_task(self._complete(info.task_token, info.workflow_id or "", call))
        self._completers.add(task)
        task.add_done_callback(self._completers.discard)
        activity.raise_complete_async()

    async def _complete(self, token: bytes, workflow_id: str, call: Call) -> None:
        await asyncio.sleep(call.wait)
        self.ended[workflow_id] = datetime.now(UTC)
        await self.temporal.get_async_activity_handle(task_token=token).complete(workflow_id)


def bench_worker(
    temporal: TemporalClient, api: WorkerClient, alternatives: Alternatives, queue: str, slots: int
) -> Worker:
    """A caller worker with `slots` activity slots, in the sandbox the engine uses."""
    caller = CallerActivities(api)
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH, "benchmarks")
    return Worker(
        temporal,
        task_queue=queue,
        workflows=[BenchCaller],
        activities=[
            caller.call_agent,
            alternatives.polling,
            alternatives.blocking,
            alternatives.bare,
        ],
        max_concurrent_activities=slots,
        workflow_runner=SandboxedWorkflowRunner(restrictions=restrictions),
    )


async def run_mode(
    temporal: TemporalClient,
    api: WorkerClient,
    counter: SlotCounter,
    mode: str,
    *,
    calls: int,
    wait: float,
    slots: int,
    concurrency: int,
) -> dict[str, Any]:
    """Run `calls` callers of one mode at once; their latencies, slots and rate.

    `temporal` must carry `counter` as an interceptor so the bench worker is counted.
    """
    alternatives = Alternatives(api, temporal)
    queue = f"bench-{mode}-{time.time_ns()}"
    counter.peak = counter.running
    in_use: list[int] = []

    async def sample() -> None:
        while True:
            in_use.append(counter.running)
            await asyncio.sleep(0.1)

    async with bench_worker(temporal, api, alternatives, queue, slots):
        sampler = asyncio.create_task(sample())
        began = time.time()

        async def one(n: int) -> str:
            handle = await temporal.start_workflow(
                BenchCaller.run, Call(mode, wait), id=f"{queue}/{n}", task_queue=queue
            )
            return await handle.result()

        results = await bounded(concurrency, [lambda n=n: one(n) for n in range(calls)])
        ended = time.time()
        sampler.cancel()
        peak = counter.peak

    async def latency(n: int, execution_id: str) -> tuple[float, float]:
        times = await activity_times(temporal, f"{queue}/{n}", _activity_name(mode))
        assert times is not None and times.completed is not None
        if mode == "bare":
            agent_end = alternatives.ended[f"{queue}/{n}"].replace(tzinfo=None)
        else:
            finished = (await api.execution(execution_id)).status.finished_at
            agent_end = finished.ToDatetime()
        added = (times.completed - agent_end).total_seconds()
        whole = (times.completed - times.scheduled).total_seconds() - wait
        return added, whole

    measured = await bounded(16, [lambda n=n, r=r: latency(n, r) for n, r in enumerate(results)])
    added = percentiles([a for a, _ in measured])
    whole = percentiles([w for _, w in measured])
    return {
        "mode": mode,
        "calls": calls,
        "added p50 ms": ms(added["p50"]),
        "added p99 ms": ms(added["p99"]),
        "added max ms": ms(added["max"]),
        "call overhead p50 ms": ms(whole["p50"]),
        "slots in use (mean)": round(sum(in_use) / max(len(in_use), 1), 2),
        "slots in use (peak)": peak,
        "calls/s": round(calls / (ended - began), 2),
        "wall s": round(ended - began, 1),
        "_added_ms": [ms(a) for a, _ in measured],
    }
