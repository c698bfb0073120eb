"""The engine at scale: what a task costs, and a run of any length.

On the platform as it runs in production (see benchmarks/common.py), in the same run: a
one-task workflow (the yardstick) and a `for` loop of `set` iterations (tasks/s and
history events per task, the output checked), each run several times in turn and taken
at its median; then a loop of one-millisecond waits long enough to pass Temporal's
51,200-event ceiling, so that it must continue as new. Each is timed from `run_workflow` until the API holds its end; its history is
counted over every run of its workflow id.

The dev server fires a timer at the earliest a second after it was set unless
`history.timerProcessorMaxTimeShift` is lowered, which this benchmark does (`--timer-shift`)
so that a millisecond wait lasts about a millisecond plus a workflow task.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import statistics
import time
from pathlib import Path
from typing import Any

from temporalio.client import Client as TemporalClient

from benchmarks.common import (
    BenchPlatform,
    Report,
    arguments,
    command_line,
    finish,
    pyplot,
    save_figure,
    state_dir,
)
from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.local.embedded import EmbeddedTemporal, free_port
from stigmer.resources.values import to_json

TEMPORAL_CEILING = 51_200
"""Temporal refuses a run past this many history events."""


class PreciseTimers(EmbeddedTemporal):
    """The embedded dev server with its timer processor's time shift set to `shift`."""

    def __init__(self, *args: Any, shift: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shift = shift

    def _server_args(self) -> list[str]:
        value = f'history.timerProcessorMaxTimeShift="{self.shift}"'
        return [*super()._server_args(), "--dynamic-config-value", value]


class EnginePlatform(BenchPlatform):
    """The benchmark platform on a dev server with precise timers."""

    def __init__(self, workdir: Path, timer_shift: str) -> None:
        super().__init__(workdir)
        # No web console: its fixed port may be taken by a platform already running here.
        os.environ["STIGMER_CONSOLE_PORT"] = "0"
        self.temporal = PreciseTimers(
            workdir / "temporal",
            port=free_port(),
            ui_port=None,
            startup_timeout=90,
            shift=timer_shift,
        )


def _document(name: str, *tasks: dict[str, Any]) -> dict[str, Any]:
    return {
        "document": {"dsl": "1.0.0", "namespace": "bench", "name": name, "version": "1.0.0"},
        "do": list(tasks),
    }


ONE_TASK = _document("one-task", {"only": {"set": {"done": True}}})


def set_loop(iterations: int) -> dict[str, Any]:
    """A `for` loop of `iterations` one-`set` iterations summing the indexes."""
    return _document(
        "set-loop",
        {
            "loop": {
                "for": {"in": f"${{ [range({iterations})] }}", "each": "n"},
                "do": [{"add": {"set": {"sum": "${ (.sum // 0) + $n }", "count": "${ $n + 1 }"}}}],
            }
        },
    )


def wait_loop(waits: int) -> dict[str, Any]:
    """A `for` loop of `waits` one-millisecond waits, counting them."""
    return _document(
        "wait-loop",
        {
            "loop": {
                "for": {"in": f"${{ [range({waits})] }}", "each": "n"},
                "do": [
                    {"pause": {"wait": {"milliseconds": 1}}},
                    {"count": {"set": {"count": "${ (.count // 0) + 1 }"}}},
                ],
            }
        },
    )


async def timed(platform: BenchPlatform, document: dict[str, Any]) -> tuple[float, pb.Execution]:
    """Seconds from starting the workflow until the API holds its end; the execution."""
    started = time.perf_counter()
    run = await platform.client.run_workflow(document=document, input={})
    done = await platform.client.wait(run.execution.id)
    elapsed = time.perf_counter() - started
    if done.status.phase != pb.COMPLETED:
        raise RuntimeError(f"{document['document']['name']} ended {done.status.error}")
    return elapsed, done


async def history(temporal: TemporalClient, execution: pb.Execution) -> list[int]:
    """History events of each run of the execution's workflow id, oldest first."""
    workflow_id = execution.status.temporal_workflow_id
    await temporal.get_workflow_handle(workflow_id).result()  # follows continued runs
    lengths: dict[str, tuple[float, int]] = {}
    async for run in temporal.list_workflows(f"WorkflowId = '{workflow_id}'"):
        described = await temporal.get_workflow_handle(workflow_id, run_id=run.run_id).describe()
        lengths[run.run_id] = (run.start_time.timestamp(), described.history_length)
    return [length for _, length in sorted(lengths.values())]


async def run(
    iterations: int, waits: int, repeats: tuple[int, int], timer_shift: str, workdir: Path
) -> Report:
    yardsticks, loops = repeats
    report = Report(
        "engine",
        command_line("engine"),
        {
            "iterations": iterations,
            "waits": waits,
            "one-task runs": yardsticks,
            "set loop runs": loops,
            "timer shift": timer_shift,
        },
    )
    async with EnginePlatform(workdir, timer_shift) as platform:
        temporal = platform.temporal_client
        one_events = await history(temporal, (await timed(platform, ONE_TASK))[1])  # warm
        # Interleaved, so that both see the machine as it is at the time.
        one: list[float] = []
        looped: list[tuple[float, pb.Execution]] = []
        for turn in range(max(yardsticks, loops)):
            if turn < yardsticks:
                one.append((await timed(platform, ONE_TASK))[0])
            if turn < loops:
                looped.append(await timed(platform, set_loop(iterations)))
        one_task = statistics.median(one)
        loop_seconds = statistics.median(seconds for seconds, _ in looped)
        loop = looped[0][1]
        loop_output = to_json(loop.status.structured)
        expected = {"sum": sum(range(iterations)), "count": iterations}
        loop_events = await history(temporal, loop)

        wait_seconds, waited = await timed(platform, wait_loop(waits))
        wait_events = await history(temporal, waited)
        wait_output = to_json(waited.status.structured)

    loop_tasks = iterations  # one `set` per iteration (the `for` itself is one more)
    report.rows = [
        {
            "workflow": "one set task (median)",
            "tasks": 1,
            "wall s": round(one_task, 3),
            "x one-task": 1.0,
            "tasks/s": round(1 / one_task, 1),
            "runs": len(one_events),
            "history events": sum(one_events),
            "events/task": sum(one_events),
        },
        {
            "workflow": f"for: {iterations} set (median)",
            "tasks": loop_tasks,
            "wall s": round(loop_seconds, 3),
            "x one-task": round(loop_seconds / one_task, 1),
            "tasks/s": round(loop_tasks / loop_seconds, 1),
            "runs": len(loop_events),
            "history events": sum(loop_events),
            "events/task": round(sum(loop_events) / loop_tasks, 4),
        },
        {
            "workflow": f"for: {waits} x (wait 1 ms, set)",
            "tasks": 2 * waits,
            "wall s": round(wait_seconds, 3),
            "x one-task": round(wait_seconds / one_task, 1),
            "tasks/s": round(2 * waits / wait_seconds, 1),
            "runs": len(wait_events),
            "history events": sum(wait_events),
            "events/task": round(sum(wait_events) / (2 * waits), 3),
        },
    ]
    report.figures = {
        "set loop output right": loop_output == expected,
        "set loop x one-task": round(loop_seconds / one_task, 1),
        "set loop within 20x one-task": loop_seconds <= 20 * one_task,
        "wait loop completed": wait_output == {"count": waits},
        "wait loop history events": sum(wait_events),
        "wait loop past Temporal's ceiling": sum(wait_events) > TEMPORAL_CEILING,
        "wait loop runs (continued as new)": len(wait_events),
        "most events in one run": max(wait_events),
    }
    report.series = {
        "one-task seconds": one,
        "set loop seconds": [seconds for seconds, _ in looped],
        "wait loop events per run": wait_events,
    }
    return report


def plot(report: Report, path: Path) -> None:
    plt = pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    rows = report.rows
    labels = [r["workflow"] for r in rows]
    bars = left.bar(range(len(rows)), [r["wall s"] for r in rows])
    left.set_xticks(range(len(rows)), labels, rotation=12, fontsize=8)
    left.set_yscale("log")
    left.set_ylabel("wall time (s, log)")
    left.set_title("one run, one after the other")
    for bar, row in zip(bars, rows, strict=True):
        left.annotate(
            f"{row['x one-task']}x, {row['tasks/s']} tasks/s",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    per_run = report.series["wait loop events per run"]
    runs = range(1, len(per_run) + 1)
    right.bar(runs, per_run, label="events in the run")
    right.plot(runs, list(itertools.accumulate(per_run)), marker="o", label="events so far")
    right.axhline(TEMPORAL_CEILING, color="red", linestyle="--", label="Temporal's ceiling")
    right.set_xticks(runs)
    right.set_xlabel("run of the wait loop's workflow id")
    right.set_ylabel("history events")
    right.set_title(f"{report.parameters['waits']} waits: {sum(per_run)} events in all")
    right.legend(fontsize=8)
    save_figure(figure, path)


def main() -> None:
    parser = arguments(__doc__ or "", iterations=30_000, waits=12_000, yardsticks=5, loops=3)
    parser.add_argument("--iterations", type=int, help="iterations of the set loop")
    parser.add_argument("--waits", type=int, help="one-millisecond waits of the wait loop")
    parser.add_argument("--yardsticks", type=int, help="one-task runs (their median counts)")
    parser.add_argument("--loops", type=int, help="set loop runs (their median counts)")
    parser.add_argument("--timer-shift", default="1ms", help="the dev server's timer shift")
    args = parser.parse_args()
    if args.quick:
        args.iterations, args.waits, args.yardsticks, args.loops = 300, 20, 2, 1
    with state_dir(args.workdir) as workdir:
        report = asyncio.run(
            run(
                args.iterations,
                args.waits,
                (args.yardsticks, args.loops),
                args.timer_shift,
                workdir,
            )
        )
    finish(report, args.out, lambda path: plot(report, path))


if __name__ == "__main__":
    main()
