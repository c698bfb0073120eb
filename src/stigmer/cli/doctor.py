"""`stigmer doctor`: the calls that need an operator, and what to do about each."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from stigmer.cli.common import call_api
from stigmer.cli.render import Output, console, emit, table

if TYPE_CHECKING:
    from stigmer.api.v1 import stigmer_pb2 as pb

ADVICE = {  # by StuckReason name: the API's messages load only when doctor runs
    "STUCK_PENDING": (
        "never started: are workers polling its queue (stigmer worker --queue agents / "
        "engine)? Then fail it, or complete it by hand"
    ),
    "STUCK_IN_PROGRESS": (
        "still running past the threshold: watch it (stigmer executions watch ID); if it is "
        "lost, stigmer executions fail ID --reason ... (or complete ID --output ...)"
    ),
    "STUCK_CALLBACK_WAITING": (
        "finished but its caller was never told: check the agents queue workers, then "
        "stigmer executions complete ID --output ... / fail ID --reason ..."
    ),
    "STUCK_CALLBACK_FAILED": (
        "telling its caller failed (see the callback detail); if the caller still waits, "
        "stigmer executions complete/fail ID delivers again"
    ),
}


def register(app: typer.Typer) -> None:
    app.command()(doctor)


def doctor(
    ctx: typer.Context,
    output: Annotated[Output, typer.Option("-o", "--output", help="table, json or yaml")] = (
        Output.table
    ),
) -> None:
    """List stuck calls: open past the threshold, or finished with their caller not told.

    Exits 1 when any is found, so scripts and probes can use it.
    """
    found = call_api(ctx, lambda client: client.list_stuck())
    rows = [_entry(item) for item in found.stuck]
    if output != Output.table:
        emit(
            {"stuck_after_seconds": found.stuck_after.ToTimedelta().total_seconds(), "stuck": rows},
            output,
        )
    elif not rows:
        console.print(f"no stuck calls (threshold {_age(found.stuck_after.ToTimedelta())})")
    else:
        table(
            f"stuck calls (threshold {_age(found.stuck_after.ToTimedelta())})",
            ["ID", "KIND", "TARGET", "PHASE", "REASON", "AGE", "CALLBACK", "WHAT TO DO"],
            [
                [
                    row["id"],
                    row["kind"],
                    row["target"],
                    row["phase"],
                    row["reason"],
                    _age(timedelta(seconds=row["age_seconds"])),
                    row["callback"]["outcome"],
                    row["advice"],
                ]
                for row in rows
            ],
        )
    if rows:
        raise typer.Exit(1)


def _entry(item: pb.StuckExecution) -> dict[str, Any]:
    from stigmer.api.v1 import stigmer_pb2 as pb
    from stigmer.observability.stuck import reason_label
    from stigmer.resources.executions import KIND_NAMES

    execution = item.execution
    status = execution.status
    callback = status.callback
    return {
        "id": execution.id,
        "kind": KIND_NAMES.get(execution.spec.kind, "Execution"),
        "target": execution.spec.agent.agent or execution.spec.workflow.workflow or "(inline)",
        "phase": pb.Phase.Name(status.phase),
        "reason": reason_label(item.reason),
        "age_seconds": round(item.age.ToTimedelta().total_seconds(), 1),
        "callback": {
            "outcome": pb.CallbackOutcome.Name(callback.outcome).removeprefix("CALLBACK_")
            if callback.workflow_id
            else "-",
            "detail": callback.detail,
            "workflow_id": callback.workflow_id,
            "activity_id": callback.activity_id,
            "token_preview": callback.token_preview,
        },
        "advice": ADVICE.get(pb.StuckReason.Name(item.reason), ""),
    }


def _age(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"
