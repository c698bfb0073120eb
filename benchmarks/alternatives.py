"""Question 3, against the alternatives: the same calls waited for four ways.

In one run, on one Temporal server and one platform, `--calls` callers each call an agent
that waits `--agent-seconds`, with `--slots` caller activity slots per mode: the
handshake (ours), polling every 2 s, a blocking wait, and bare Temporal async completion
(see `benchmarks.callers`). Added latency is from the agent's end (the execution's
recorded `finished_at`; for `bare`, the moment the completing coroutine's wait ended) to
the caller activity's completion event in the caller's history.

    python -m benchmarks.alternatives
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from benchmarks.callers import MODES, run_mode
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


async def run(
    calls: int, wait: float, slots: int, concurrency: int, workdir: Path
) -> list[dict[str, Any]]:
    async with BenchPlatform(workdir, runner_slots=calls + 50) as platform:
        rows = []
        for mode in MODES:
            row = await run_mode(
                platform.temporal_client,
                platform.client,
                platform.counter,
                mode,
                calls=calls,
                wait=wait,
                slots=slots,
                concurrency=concurrency,
            )
            print(f"  {mode}: done in {row['wall s']}s")
            rows.append(row)
    return rows


def ratios(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Each alternative against ours: how many times its added latency, ours its rate."""
    ours = next(r for r in rows if r["mode"] == "handshake")
    found: dict[str, Any] = {}
    for row in rows:
        if row is ours:
            continue
        mode = row["mode"]
        found[f"{mode} added p50 / ours"] = round(row["added p50 ms"] / ours["added p50 ms"], 2)
        found[f"ours calls/s / {mode}"] = round(ours["calls/s"] / row["calls/s"], 2)
    return found


def plot(report: Report, path: Path) -> None:
    plt = pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    modes = [r["mode"] for r in report.rows]
    left.boxplot(
        [report.series[m] for m in modes], tick_labels=modes, showfliers=True, whis=(1, 99)
    )
    left.set_yscale("log")
    left.set_ylabel("added latency (ms, log)")
    left.set_title("agent end -> caller activity completed")
    right.bar(modes, [r["calls/s"] for r in report.rows])
    right.set_ylabel("calls/s")
    right.set_title(f"{report.parameters['calls']} calls, {report.parameters['slots']} slots each")
    save_figure(figure, path)


def main() -> None:
    parser = arguments(__doc__ or "", calls=100, agent_seconds=5.0, slots=5)
    parser.add_argument("--calls", type=int)
    parser.add_argument("--agent-seconds", type=float)
    parser.add_argument("--slots", type=int)
    parser.add_argument("--concurrency", type=int, default=50, help="callers started at once")
    args = parser.parse_args()
    if args.quick:
        args.calls, args.agent_seconds = 6, 1.0
    parameters = {"calls": args.calls, "agent_seconds": args.agent_seconds, "slots": args.slots}
    report = Report("alternatives", command_line("alternatives"), parameters)
    with state_dir(args.workdir) as workdir:
        rows = asyncio.run(
            run(args.calls, args.agent_seconds, args.slots, args.concurrency, workdir)
        )
    report.series = {r["mode"]: r.pop("_added_ms") for r in rows}
    report.rows = rows
    report.figures = ratios(rows)
    finish(report, args.out, lambda path: plot(report, path))


if __name__ == "__main__":
    main()
