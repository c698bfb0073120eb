"""CLI start: how long `stigmer --help` and `stigmer list` take, as whole processes.

Each command runs `--runs` times after one warm-up, in turn with the yardstick
`python3 -c "import json"` (A B A B ...), so that a drift of the machine's speed hits
both alike. Per command: the median wall and CPU seconds (user + system, from the
kernel's accounting of the finished child) and the median of the pairwise ratios to the
yardstick. The goal is at most 10 times the yardstick. `list` calls a running API.

    python -m benchmarks.cli_start
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

GOAL_RATIO = 10.0
YARDSTICK = [sys.executable, "-c", "import json"]
STIGMER = str(Path(sys.executable).parent / "stigmer")
COMMANDS = {
    "stigmer --help": ["--help"],
    "stigmer list": ["list"],
    "stigmer executions list": ["executions", "list"],
    "stigmer run --help": ["run", "--help"],
}


@dataclass
class Timing:
    wall: float
    cpu: float


def timed(argv: list[str], env: dict[str, str]) -> Timing:
    """One whole run of `argv`: wall seconds, and the CPU seconds the kernel counted."""
    began = time.perf_counter()
    process = subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - began
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{argv} exited {process.returncode}: {errors.decode()[-500:]}")
    return Timing(wall, usage.ru_utime + usage.ru_stime)


def compare(name: str, argv: list[str], runs: int, env: dict[str, str]) -> dict[str, Any]:
    """`argv` against the yardstick, interleaved; medians and the median pairwise ratio."""
    timed(argv, env), timed(YARDSTICK, env)  # warm the file cache and the bytecode
    pairs = [(timed(argv, env), timed(YARDSTICK, env)) for _ in range(runs)]
    wall_ratio = statistics.median(a.wall / b.wall for a, b in pairs)
    cpu_ratio = statistics.median(a.cpu / max(b.cpu, 1e-3) for a, b in pairs)
    return {
        "command": name,
        "runs": runs,
        "wall ms (median)": round(1000 * statistics.median(a.wall for a, _ in pairs), 1),
        "cpu ms (median)": round(1000 * statistics.median(a.cpu for a, _ in pairs), 1),
        "yardstick wall ms": round(1000 * statistics.median(b.wall for _, b in pairs), 1),
        "x yardstick (wall)": round(wall_ratio, 2),
        "x yardstick (cpu)": round(cpu_ratio, 2),
        "goal met": wall_ratio <= GOAL_RATIO,
    }


async def run(runs: int, workdir: Path) -> list[dict[str, Any]]:
    async with BenchPlatform(workdir, engine_slots=1, runner_slots=5) as platform:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("STIGMER_")}
        env = {**clean, "STIGMER_ADDRESS": platform.address}
        return [
            await asyncio.to_thread(compare, name, [STIGMER, *args], runs, env)
            for name, args in COMMANDS.items()
        ]


def plot(report: Report, path: Path) -> None:
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(8, 3.5))
    names = [r["command"] for r in report.rows]
    axes.barh(names, [r["x yardstick (wall)"] for r in report.rows], label="wall")
    axes.barh(
        names, [r["x yardstick (cpu)"] for r in report.rows], height=0.3, label="cpu", alpha=0.8
    )
    axes.axvline(GOAL_RATIO, color="grey", linestyle="--", label=f"goal {GOAL_RATIO:g}x")
    axes.set_xlabel('times python3 -c "import json" (median of pairs)')
    axes.legend(loc="lower right")
    save_figure(figure, path)


def main() -> None:
    parser = arguments(__doc__ or "", runs=15)
    parser.add_argument("--runs", type=int, help="counted runs of each command")
    args = parser.parse_args()
    if args.quick:
        args.runs = 3
    report = Report("cli_start", command_line("cli_start"), {"runs": args.runs})
    with state_dir(args.workdir) as workdir:
        report.rows = asyncio.run(run(args.runs, workdir))
    report.figures = {
        "goal": f"each at most {GOAL_RATIO:g}x the yardstick (wall, median of pairs)",
        "all met": all(r["goal met"] for r in report.rows),
    }
    finish(report, args.out, lambda path: plot(report, path))


if __name__ == "__main__":
    main()
