"""`stigmer demo`: the platform on its embedded defaults, end to end, in one command.

It starts `stigmer server` (unless one already answers), applies the example agents,
runs the example workflow for a few topics at once and shows every agent call go from
pending (caller waiting on its token, no worker slot held) to completed and delivered.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from stigmer.cli.definitions import workflow_errors
from stigmer.cli.render import console, error, styled_phase

if TYPE_CHECKING:
    from stigmer.api.v1 import stigmer_pb2 as pb
    from stigmer.client import Client
    from stigmer.config import Settings
    from stigmer.resources.definitions import Resource

TOPICS = ("tides", "comets", "glaciers")
SERVER_START_SECONDS = 90.0


def register(app: typer.Typer) -> None:
    app.command()(demo)


def demo(
    examples: Annotated[
        Path, typer.Option(help="The examples folder (agents/ and workflows/).", exists=True)
    ] = Path("examples"),
) -> None:
    """Start the platform, apply the example agents and run the example workflow."""
    import asyncio

    from stigmer.client import ApiUnreachable
    from stigmer.config import load_settings
    from stigmer.engine.validation import load_workflow
    from stigmer.resources.definitions import load_resources
    from stigmer.resources.source import SourceErrors

    settings = load_settings()
    try:
        resources = load_resources([examples / "agents"], workflow_errors)
        document = load_workflow(examples / "workflows" / "brief.yaml")
    except SourceErrors as exc:
        error(exc)
        raise typer.Exit(1) from None
    try:
        asyncio.run(_demo(settings, resources, document))
    except ApiUnreachable as exc:
        error(exc)
        raise typer.Exit(2) from None


async def _demo(settings: Settings, resources: list[Resource], document: dict[str, Any]) -> None:
    from stigmer.api.v1 import stigmer_pb2 as pb

    async with _platform(settings) as client:
        for resource in resources:
            applied = await client.apply(resource.kind, resource.name, resource.spec)
            console.print(f"applied agent/{resource.name} (version {applied.definition.version})")
        runs = [
            (await client.run_workflow(document=document, input={"topic": topic})).execution.id
            for topic in TOPICS
        ]
        console.print(f"\nstarted {len(runs)} runs of workflow 'brief': {', '.join(runs)}\n")
        await _show_calls(client, runs)
        for run_id in runs:
            result = await client.result(run_id)
            brief = escape(_brief(result))  # a model's text, brackets and all
            console.print(f"{run_id}: {pb.Phase.Name(result.phase)} -> {brief}", highlight=False)


def _brief(result: pb.ExecutionResult) -> str:
    fields = result.structured.struct_value.fields
    return fields["brief"].string_value if "brief" in fields else str(result.error.detail)


async def _show_calls(client: Client, runs: list[str]) -> None:
    """One line each time an agent call changes phase or callback state, until all end."""
    import asyncio

    from stigmer.api.v1 import stigmer_pb2 as pb

    seen: dict[str, tuple[int, int]] = {}
    while True:
        for run_id in runs:
            for call in (await client.list_executions(parent_execution_id=run_id)).executions:
                state = (call.status.phase, call.status.callback.outcome)
                if seen.get(call.id) != state:
                    seen[call.id] = state
                    console.print(
                        f"  {call.spec.agent.agent:<10} {call.id}  {styled_phase(call)}  "
                        f"caller: {_callback(call)}  "
                        f"[dim]({len(call.status.messages)} messages, "
                        f"{len(call.status.todos)} todos)[/]"
                    )
        statuses = [await client.execution(run_id) for run_id in runs]
        if all(s.status.phase in (pb.COMPLETED, pb.FAILED, pb.CANCELLED) for s in statuses):
            return
        await asyncio.sleep(0.3)


def _callback(execution: pb.Execution) -> str:
    from stigmer.api.v1 import stigmer_pb2 as pb

    outcome = execution.status.callback.outcome
    if outcome == pb.CALLBACK_WAITING:
        return "[yellow]pending on its token[/]"
    return pb.CallbackOutcome.Name(outcome).removeprefix("CALLBACK_").lower()


@contextlib.asynccontextmanager
async def _platform(settings: Settings) -> AsyncIterator[Client]:
    """A client of the running platform, starting `stigmer server` for the demo if needed."""
    from stigmer.client import ApiUnreachable, Client

    client = Client.from_settings(settings)
    server: subprocess.Popen[bytes] | None = None
    try:
        try:
            await client.wait_ready(1)
            console.print(f"using the running platform at {settings.address}")
        except ApiUnreachable:
            server = _start_server(settings)
            await _wait_for(client, server, settings)
        yield client
    finally:
        await client.close()
        if server is not None:
            console.print("\nstopping the platform")
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)


def _start_server(settings: Settings) -> subprocess.Popen[bytes]:
    console.print(f"starting the platform (data in {settings.data_dir}) ...")
    return subprocess.Popen(
        [sys.executable, "-m", "stigmer.cli.main", "server"],
        stdout=sys.stdout,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "STIGMER_LOG_LEVEL": "WARNING"},
    )


async def _wait_for(client: Client, server: subprocess.Popen[bytes], settings: Settings) -> None:
    from stigmer.client import ApiUnreachable

    for _ in range(int(SERVER_START_SECONDS * 2)):
        if server.poll() is not None:
            raise ApiUnreachable(f"`stigmer server` exited with code {server.returncode}")
        try:
            await client.wait_ready(0.5)
            await client.list("agent")
            return
        except ApiUnreachable:
            continue
    raise ApiUnreachable(f"the platform did not answer at {settings.address} in time")
