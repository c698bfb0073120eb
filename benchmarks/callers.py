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
- `temporal`: no platform, but the shape of ours (the floor of our design): the activity
  starts a second workflow with its token and goes pending; that workflow runs the
  agent's wait as an activity, then completes the caller through the token in a local
  activity, as our execution workflows do. The second workflow and its activities run
  on a queue of their own.

The agent of the first three is the platform's scripted agent, run by its own workers.
"""

from __future__ import annotations

import asyncio
import base64
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

MODES = ("handshake", "polling", "blocking", "bare", "temporal")
AGENT_SLOTS = 500
"""`temporal`: activity slots of the second workflow's queue, as the runner workers have."""
POLL_EVERY = 2.0
FINAL = (pb.COMPLETED, pb.FAILED, pb.CANCELLED)


@dataclass
class Call:
    mode: str
    wait: float
    """How long the agent (or, for `bare`, the completing coroutine) waits."""


@dataclass
class Job:
    """`temporal`: what the second workflow needs to answer its caller."""

    call: Call
    caller_workflow_id: str
    token: str
    """The caller activity's task token, base64."""


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


@workflow.defn(name="bench/agent")
class BenchAgent:
    """`temporal`: the agent's own workflow, which completes its caller through the token."""

    @workflow.run
    async def run(self, job: Job) -> None:
        await workflow.execute_activity(
            "bench/agent-work", job, start_to_close_timeout=timedelta(hours=1)
        )
        await workflow.execute_local_activity(
            "bench/complete-caller", job, start_to_close_timeout=timedelta(minutes=1)
        )


class Alternatives:
    """The activities of the alternatives and of the two floors."""

    def __init__(self, api: WorkerClient, temporal: TemporalClient, agent_queue: str = "") -> None:
        self.api = api
        self.temporal = temporal
        self.agent_queue = agent_queue
        self.ended: dict[str, datetime] = {}
        """By caller workflow id, when the agent ended: for `bare`, when the completing
        coroutine's wait ended; for `temporal`, when the completing local activity began
        (where our execution workflows record `finished_at`)."""
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

    @activity.defn(name="bench/temporal")
    async def temporal_caller(self, call: Call) -> str:
        info = activity.info()
        job = Job(call, info.workflow_id or "", base64.b64encode(info.task_token).decode())
        await self.temporal.start_workflow(
            BenchAgent.run, job, id=f"{job.caller_workflow_id}/agent", task_queue=self.agent_queue
        )
        activity.raise_complete_async()

    @activity.defn(name="bench/agent-work")
    async def agent_work(self, job: Job) -> None:
        await asyncio.sleep(job.call.wait)

    @activity.defn(name="bench/complete-caller")
    async def complete_caller(self, job: Job) -> None:
        # The moment our finishing step stamps `finished_at`: overheads compare alike.
        self.ended[job.caller_workflow_id] = datetime.now(UTC)
        handle = self.temporal.get_async_activity_handle(task_token=base64.b64decode(job.token))
        await handle.complete(job.caller_workflow_id)

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
            alternatives.temporal_caller,
        ],
        max_concurrent_activities=slots,
        workflow_runner=SandboxedWorkflowRunner(restrictions=restrictions),
    )


def agent_worker(temporal: TemporalClient, alternatives: Alternatives) -> Worker:
    """`temporal`: the worker of the second workflow and its activities, on a client
    without the slot counter (they hold no caller slot)."""
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH, "benchmarks")
    uncounted = TemporalClient(
        temporal.service_client,
        namespace=temporal.namespace,
        data_converter=temporal.data_converter,  # the platform's sealing, as everywhere else
    )
    return Worker(
        uncounted,
        task_queue=alternatives.agent_queue,
        workflows=[BenchAgent],
        activities=[alternatives.agent_work, alternatives.complete_caller],
        max_concurrent_activities=AGENT_SLOTS,
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
    rate: float | None = None,
) -> dict[str, Any]:
    """Run `calls` callers of one mode, `concurrency` at once, or started at a steady
    `rate` calls/s when given; their latencies, slots and rate.

    `temporal` must carry `counter` as an interceptor so the bench worker is counted.
    """
    queue = f"bench-{mode}-{time.time_ns()}"
    alternatives = Alternatives(api, temporal, agent_queue=f"{queue}-agent")
    counter.peak = counter.running
    in_use: list[int] = []

    async def sample() -> None:
        while True:
            in_use.append(counter.running)
            await asyncio.sleep(0.1)

    async with (
        bench_worker(temporal, api, alternatives, queue, slots),
        agent_worker(temporal, alternatives),
    ):
        sampler = asyncio.create_task(sample())
        began = time.time()

        async def one(n: int) -> str:
            if rate is not None:
                await asyncio.sleep(max(0.0, began + n / rate - time.time()))
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
        if mode in ("bare", "temporal"):
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
