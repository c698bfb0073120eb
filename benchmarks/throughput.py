"""Question 4, end-to-end throughput: agent calls per second with an agent that answers at once.

`--calls` calls, `--concurrency` in flight, four ways on one server: the full product
path (a DSL workflow with `call: agent`, created through the API), the handshake caller
alone (a plain caller workflow, see `benchmarks.callers`), bare Temporal with the shape
of ours (a caller whose activity goes pending, a second workflow that runs the agent's
activity and completes the caller through the token: the floor of our design), and bare
async completion (a coroutine completes the token: the floor of Temporal). Rate is calls
over the time from the first start to the last end; each is compared with both floors.

    python -m benchmarks.throughput
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
    agent_document,
    arguments,
    bounded,
    command_line,
    cpu_seconds,
    finish,
    pyplot,
    save_figure,
    script,
    state_dir,
)
from stigmer.api.v1 import stigmer_pb2 as pb

MODES = {
    "handshake": "handshake caller",
    "temporal": "bare Temporal, same shape",
    "bare": "bare async completion",
}
GOAL = 70.0
"""The product's rate as a percentage of bare Temporal with the same shape."""


async def dsl_calls(platform: BenchPlatform, calls: int, concurrency: int) -> dict[str, Any]:
    """The product path: each call a DSL workflow through the API, waited on to its end;
    with the CPU milliseconds per call each process spent (where the cost is)."""
    client = platform.client
    document = agent_document(script(0))

    async def one() -> pb.Execution:
        created = await client.run_workflow(document=document, input={})
        return await client.wait(created.execution.id)

    before = cpu_seconds(platform.pids())
    began = time.time()
    finished = await bounded(concurrency, [one] * calls)
    ended = time.time()
    after = cpu_seconds(platform.pids())
    completed = sum(e.status.phase == pb.COMPLETED for e in finished)
    platform.cpu_per_call = {
        name: round(1000 * (after[name] - before[name]) / calls, 1)
        for name in after
        if name in before
    }
    return {
        "mode": "DSL call: agent (product)",
        "calls": calls,
        "completed": completed,
        "calls/s": round(calls / (ended - began), 2),
        "wall s": round(ended - began, 1),
    }


async def run(
    calls: int, slots: int, concurrency: int, workdir: Path
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    async with BenchPlatform(workdir, engine_slots=slots, runner_slots=calls + 50) as platform:
        rows = [await dsl_calls(platform, calls, concurrency)]
        for mode in MODES:
            row = await run_mode(
                platform.temporal_client,
                platform.client,
                platform.counter,
                mode,
                calls=calls,
                wait=0.0,
                slots=slots,
                concurrency=concurrency,
            )
            rows.append(
                {
                    "mode": MODES[mode],
                    "calls": calls,
                    "completed": calls,
                    "calls/s": row["calls/s"],
                    "wall s": row["wall s"],
                }
            )
    shaped, bare = rows[-2]["calls/s"], rows[-1]["calls/s"]
    for row in rows:
        row["% of same shape"] = round(100 * row["calls/s"] / shaped, 1)
        row["% of bare"] = round(100 * row["calls/s"] / bare, 1)
    return rows, platform.cpu_per_call


def plot(report: Report, path: Path) -> None:
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(8, 4))
    axes.barh([r["mode"] for r in report.rows], [r["calls/s"] for r in report.rows])
    axes.set_xlabel("agent calls per second (agent answers at once)")
    axes.set_title(
        f"{report.parameters['calls']} calls, {report.parameters['concurrency']} in flight"
    )
    save_figure(figure, path)


def main() -> None:
    parser = arguments(__doc__ or "", calls=500, slots=5, concurrency=50)
    parser.add_argument("--calls", type=int)
    parser.add_argument("--slots", type=int, help="caller activity slots")
    parser.add_argument("--concurrency", type=int, help="calls in flight")
    args = parser.parse_args()
    if args.quick:
        args.calls, args.concurrency = 10, 5
    parameters = {"calls": args.calls, "slots": args.slots, "concurrency": args.concurrency}
    report = Report("throughput", command_line("throughput"), parameters)
    with state_dir(args.workdir) as workdir:
        report.rows, cpu = asyncio.run(run(args.calls, args.slots, args.concurrency, workdir))
    product = report.rows[0]
    report.figures = {
        "product / same shape (%)": product["% of same shape"],
        "product / bare (%)": product["% of bare"],
        f"goal >= {GOAL:g} % of same shape met": product["% of same shape"] >= GOAL,
        **{f"product CPU ms per call: {name}": ms for name, ms in cpu.items()},
    }
    finish(report, args.out, lambda path: plot(report, path))


if __name__ == "__main__":
    main()
