"""Question 2, handshake overhead: from the agent's end to the caller's resumption.

At each load level, DSL workflows with one `call: agent` task are created through the
API at a steady `rate` calls/s for `--seconds`; each agent waits `--agent-seconds`.
Overhead of a call = the caller activity's ActivityTaskCompleted event time in the
caller workflow's history - the agent execution's `finished_at` (recorded by the API when
the execution's workflow reports the end). Also shown: `finished_at` -> the callback's
`delivered_at` (when the delivering activity had Temporal's answer).

At each level, in the same run, bare Temporal with the shape of ours (`temporal` in
`benchmarks.callers`: the caller's activity goes pending, a second workflow runs the
agent's wait as an activity and completes the caller through the token) is offered the
same calls at the same rate: the floor of our design. Its overhead is the caller's
completion event minus the end of the agent activity's wait.

    python -m benchmarks.overhead
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from benchmarks.callers import run_mode
from benchmarks.common import (
    BenchPlatform,
    Report,
    activity_times,
    agent_document,
    all_executions,
    arguments,
    bounded,
    command_line,
    finish,
    ms,
    percentiles,
    pyplot,
    save_figure,
    script,
    state_dir,
    until_finished,
)
from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.contract.names import CALL_AGENT_ACTIVITY


async def level(
    platform: BenchPlatform, rate: float, seconds: float, agent_seconds: float
) -> tuple[dict[str, Any], list[float]]:
    client = platform.client
    document = agent_document(script(agent_seconds), name=f"rate-{rate:g}")
    calls = max(1, round(rate * seconds))
    began = time.time()
    seen = {e.id for e in await all_executions(client, "AGENT_EXECUTION")}

    async def start(n: int) -> None:
        await asyncio.sleep(max(0.0, began + n / rate - time.time()))
        await client.run_workflow(document=document, input={})

    await asyncio.gather(*(start(n) for n in range(calls)))
    offered = calls / max(time.time() - began, 1e-9)
    await until_finished(client, seconds=600)
    agents = [e for e in await all_executions(client, "AGENT_EXECUTION") if e.id not in seen]

    async def overhead(execution: pb.Execution) -> tuple[float, float]:
        callback = execution.status.callback
        times = await activity_times(
            platform.temporal_client, callback.workflow_id, CALL_AGENT_ACTIVITY
        )
        assert times is not None and times.completed is not None
        finished = execution.status.finished_at.ToDatetime()
        delivered = callback.delivered_at.ToDatetime()
        return (
            (times.completed - finished).total_seconds(),
            (delivered - finished).total_seconds(),
        )

    measured = await bounded(16, [lambda e=e: overhead(e) for e in agents])
    resumed = percentiles([r for r, _ in measured])
    delivered = percentiles([d for _, d in measured])
    row = {
        "rate calls/s": rate,
        "achieved calls/s": round(offered, 1),
        "calls": len(agents),
        "delivered": sum(e.status.callback.outcome == pb.CALLBACK_DELIVERED for e in agents),
        **{f"{k} ms": ms(v) for k, v in resumed.items() if k != "mean"},
        "to delivered_at p50 ms": ms(delivered["p50"]),
    }
    return row, [ms(r) for r, _ in measured]


GOAL_P50_MS, GOAL_P99_MS, GOAL_RATE = 25.0, 100.0, 50.0


async def floor(
    platform: BenchPlatform, rate: float, seconds: float, agent_seconds: float, slots: int
) -> dict[str, Any]:
    """Bare Temporal with the same shape, offered the same calls at the same rate."""
    calls = max(1, round(rate * seconds))
    return await run_mode(
        platform.temporal_client,
        platform.client,
        platform.counter,
        "temporal",
        calls=calls,
        wait=agent_seconds,
        slots=slots,
        concurrency=calls,
        rate=rate,
    )


async def run(
    rates: list[float], seconds: float, agent_seconds: float, slots: int, workdir: Path
) -> tuple[list[dict[str, Any]], dict[str, list[float]]]:
    async with BenchPlatform(workdir, engine_slots=slots) as platform:
        rows, series = [], {}
        for rate in rates:
            row, values = await level(platform, rate, seconds, agent_seconds)
            bare = await floor(platform, rate, seconds, agent_seconds, slots)
            row["same shape p50 ms"] = bare["added p50 ms"]
            row["same shape p99 ms"] = bare["added p99 ms"]
            print(
                f"  {rate:g} calls/s: p50 {row['p50 ms']} ms, p99 {row['p99 ms']} ms; "
                f"same shape p50 {bare['added p50 ms']} ms, p99 {bare['added p99 ms']} ms"
            )
            rows.append(row)
            series[f"{rate:g}"] = values
            series[f"{rate:g} same shape"] = bare["_added_ms"]
    return rows, series


def plot(report: Report, path: Path) -> None:
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(8, 4.5))
    for rate, values in report.series.items():
        ordered = sorted(values)
        fractions = [(i + 1) / len(ordered) for i in range(len(ordered))]
        style = ":" if rate.endswith("same shape") else "-"
        axes.step(ordered, fractions, style, where="post", label=f"{rate} calls/s")
    axes.axvline(25, color="grey", linestyle=":", label="goal p50 25 ms")
    axes.axvline(100, color="grey", linestyle="--", label="goal p99 100 ms")
    axes.set_xscale("log")
    axes.set_xlabel("agent finished_at -> caller activity completed (ms, log)")
    axes.set_ylabel("fraction of calls")
    axes.legend(loc="lower right")
    save_figure(figure, path)


def goals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Whether the overhead goals hold at the goal's rate, when it was offered."""
    at = [r for r in rows if r["rate calls/s"] == GOAL_RATE]
    if not at:
        return {}
    row = at[0]
    return {
        f"p50 <= {GOAL_P50_MS:g} ms at {GOAL_RATE:g} calls/s": row["p50 ms"] <= GOAL_P50_MS,
        f"p99 <= {GOAL_P99_MS:g} ms at {GOAL_RATE:g} calls/s": row["p99 ms"] <= GOAL_P99_MS,
    }


def main() -> None:
    parser = arguments(__doc__ or "", rates=[5.0, 20.0, 50.0], seconds=10.0, agent_seconds=1.0)
    parser.add_argument("--rates", type=float, nargs="+", help="load levels, calls/s")
    parser.add_argument("--seconds", type=float, help="how long each level offers calls")
    parser.add_argument("--agent-seconds", type=float)
    parser.add_argument("--slots", type=int, default=5, help="engine activity slots")
    args = parser.parse_args()
    if args.quick:
        args.rates, args.seconds = [2.0, 5.0], 2.0
    parameters = {
        "rates": args.rates,
        "seconds": args.seconds,
        "agent_seconds": args.agent_seconds,
        "slots": args.slots,
    }
    report = Report("overhead", command_line("overhead"), parameters)
    with state_dir(args.workdir) as workdir:
        report.rows, report.series = asyncio.run(
            run(args.rates, args.seconds, args.agent_seconds, args.slots, workdir)
        )
    report.figures = goals(report.rows)
    finish(report, args.out, lambda path: plot(report, path))


if __name__ == "__main__":
    main()
