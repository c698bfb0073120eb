"""Question 1, scale: N agent calls pending at once behind 5 engine activity slots.

Each call is a DSL workflow with one `call: agent` task, created through the API; the
agent is the offline scripted agent waiting `--agent-seconds`. The engine worker has
`--slots` activity slots. Reported: whether every call completed with its callback
delivered, the time until all N caller activities had gone pending, the most pending at
once, the completion throughput, each process's peak memory, and the engine's slots in
use over time (from a counter inside the engine worker process).

    python -m benchmarks.scale                 # 10,000 calls, agents of 1,200 s
    python -m benchmarks.scale --calls 2000 --agent-seconds 150

Every running agent heartbeats Temporal and beats its caller (docs/deploy.md, sizing);
`--runner-heartbeat` and `--caller-heartbeat` set those timeouts, as a deployment holding
that many agents at once would.
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_right
from collections import Counter
from datetime import UTC
from pathlib import Path
from typing import Any

from benchmarks.common import (
    BenchPlatform,
    MemoryWatch,
    Report,
    agent_document,
    all_executions,
    arguments,
    bounded,
    command_line,
    finish,
    pyplot,
    save_figure,
    script,
    state_dir,
    until_finished,
    until_settled,
)
from stigmer.api.v1 import stigmer_pb2 as pb


async def run(
    calls: int,
    agent_seconds: float,
    slots: int,
    concurrency: int,
    heartbeats: tuple[float, float | None],
    workflow_cache: int,
    workdir: Path,
) -> tuple[dict[str, Any], dict[str, Any]]:
    runner_heartbeat, caller_heartbeat = heartbeats
    async with BenchPlatform(
        workdir,
        engine_slots=slots,
        runner_slots=calls + 50,
        runner_heartbeat=runner_heartbeat,
        workflow_cache=workflow_cache,
    ) as platform:
        client = platform.client
        memory = MemoryWatch(platform.pids())
        memory.start()
        document = agent_document(script(agent_seconds), heartbeat_seconds=caller_heartbeat)
        errors: list[str] = []

        async def start_call() -> None:
            try:
                await client.run_workflow(document=document, input={})
            except Exception as exc:  # a failed creation is a finding, not a crash
                errors.append(repr(exc))

        began = time.time()
        await bounded(concurrency, [start_call] * calls)
        submitted = time.time()
        await until_finished(client, seconds=max(600.0, agent_seconds * 4), every=2)
        ended = time.time()
        await until_settled(client, seconds=60, every=1)
        peaks = await memory.stop()
        runs = _since(await all_executions(client, "WORKFLOW_EXECUTION"), began)
        agents = _since(await all_executions(client, "AGENT_EXECUTION"), began)
        earlier = platform.slot_readings()
        readings = platform.slot_readings(since=began)
    # The warm-up call went pending before the run: count only the run's own calls.
    base = max((r["pended"] for r in earlier if r["t"] < began), default=0)
    for reading in readings:
        reading["pended"] -= base

    finished = sorted(r.status.finished_at.ToDatetime(UTC).timestamp() for r in runs)
    completed = sum(r.status.phase == pb.COMPLETED for r in runs)
    delivered = sum(a.status.callback.outcome == pb.CALLBACK_DELIVERED for a in agents)
    all_pending_at = next((r["t"] for r in readings if r["pended"] >= calls), None)
    in_flight = [
        r["pended"] - bisect_right(finished, r["t"]) for r in readings
    ]  # caller activities pending right now: went pending, not yet completed
    span = (finished[-1] - finished[0]) if len(finished) > 1 else 0.0
    figures: dict[str, Any] = {
        "calls": calls,
        "completed": completed,
        "callbacks delivered": delivered,
        "callback outcomes": dict(
            Counter(pb.CallbackOutcome.Name(a.status.callback.outcome) for a in agents)
        ),
        "errors": len(errors) + (calls - completed),
        "all completed": completed == calls and delivered == calls and not errors,
        "engine activity slots": slots,
        "most engine slots in use": max((r["running"] for r in readings), default=0),
        "submit rate (calls/s)": round(calls / (submitted - began), 1),
        "time to N pending (s)": round(all_pending_at - began, 1) if all_pending_at else None,
        "most pending at once": max(in_flight, default=0),
        "completion throughput (calls/s)": round((len(finished) - 1) / span, 1) if span else None,
        "wall time (s)": round(ended - began, 1),
        **{f"peak memory MB: {name}": mb for name, mb in peaks.items()},
        "first error": errors[0] if errors else None,
    }
    series = {
        "t": [round(r["t"] - began, 2) for r in readings],
        "slots_in_use": [r["running"] for r in readings],
        "pending": in_flight,
        "completed": [bisect_right(finished, r["t"]) for r in readings],
    }
    return figures, series


def _since(executions: list[pb.Execution], began: float) -> list[pb.Execution]:
    """The executions created at or after `began` (not the platform's warm-up call)."""
    return [e for e in executions if e.status.created_at.ToDatetime(UTC).timestamp() >= began]


def plot(report: Report, path: Path) -> None:
    plt = pyplot()
    s = report.series
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    top.step(s["t"], s["slots_in_use"], where="post", label="engine slots in use")
    top.axhline(report.parameters["slots"], color="red", linestyle="--", label="slot limit")
    top.set_ylabel("activity slots")
    top.set_ylim(0, report.parameters["slots"] + 1)
    top.legend(loc="upper right")
    bottom.plot(s["t"], s["pending"], label="calls pending (no slot held)")
    bottom.plot(s["t"], s["completed"], label="calls completed")
    bottom.set_xlabel("seconds since the first call")
    bottom.set_ylabel("calls")
    bottom.legend(loc="center right")
    figure.suptitle(
        f"{report.parameters['calls']} agent calls, {report.parameters['slots']} engine slots"
    )
    save_figure(figure, path)


def main() -> None:
    parser = arguments(__doc__ or "", calls=10_000, agent_seconds=1200.0, slots=5)
    parser.add_argument("--calls", type=int)
    parser.add_argument("--agent-seconds", type=float, help="how long each agent waits")
    parser.add_argument("--slots", type=int, help="engine worker activity slots")
    parser.add_argument("--concurrency", type=int, default=32, help="creations in flight")
    parser.add_argument(
        "--runner-heartbeat", type=float, default=600.0, help="runners' heartbeat timeout (s)"
    )
    parser.add_argument(
        "--caller-heartbeat", type=float, default=7200.0, help="calls' heartbeatTimeout (s)"
    )
    parser.add_argument(
        "--workflow-cache",
        type=int,
        default=None,
        help="runs each worker keeps cached (STIGMER_WORKFLOW_CACHE); default: the calls "
        "plus 100, at least 1,000, as a deployment holding them all open would size it",
    )
    args = parser.parse_args()
    if args.quick:
        args.calls, args.agent_seconds = 40, 5.0
    workflow_cache = args.workflow_cache or max(1000, args.calls + 100)
    parameters = {
        "calls": args.calls,
        "agent_seconds": args.agent_seconds,
        "slots": args.slots,
        "concurrency": args.concurrency,
        "runner_heartbeat_seconds": args.runner_heartbeat,
        "caller_heartbeat_seconds": args.caller_heartbeat,
        "workflow_cache": workflow_cache,
    }
    report = Report("scale", command_line("scale"), parameters)
    with state_dir(args.workdir) as workdir:
        report.figures, report.series = asyncio.run(
            run(
                args.calls,
                args.agent_seconds,
                args.slots,
                args.concurrency,
                (args.runner_heartbeat, args.caller_heartbeat),
                workflow_cache,
                workdir,
            )
        )
    finish(report, args.out, lambda path: plot(report, path))


if __name__ == "__main__":
    main()
