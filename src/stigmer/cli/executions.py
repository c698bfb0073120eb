"""`stigmer run`, `stigmer agent run` and `stigmer executions ...`.

The API's messages, the client and the engine's loader load inside the commands, so
that `stigmer --help` and every other command pay only for what they use.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from stigmer.cli.common import call_api
from stigmer.cli.render import (
    Output,
    console,
    emit,
    error,
    errors,
    execution_dict,
    phase,
    styled_phase,
    table,
)

if TYPE_CHECKING:
    from stigmer.api.v1 import stigmer_pb2 as pb
    from stigmer.client import Client

OUTPUT = typer.Option("-o", "--output", help="table, json or yaml")
executions_app = typer.Typer(
    help="Agent and workflow executions.", no_args_is_help=True, rich_markup_mode=None
)
agent_app = typer.Typer(help="Run agents directly.", no_args_is_help=True, rich_markup_mode=None)


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.add_typer(executions_app, name="executions")
    app.add_typer(agent_app, name="agent")


def _json_argument(text: str, option: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not valid JSON: {exc}", param_hint=option) from None


DETACH_HELP = (
    "Start it, print its id (-o json|yaml: the execution) and exit; "
    "`stigmer executions watch|result ID` pick it up later."
)


def run(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A DSL workflow file.", exists=True)],
    input: Annotated[str, typer.Option("--input", "-i", help="Workflow input, JSON.")] = "{}",
    output: Annotated[
        Output | None, typer.Option("-o", "--output", help="table, json or yaml [default: json]")
    ] = None,
    follow: Annotated[bool, typer.Option(help="Show task progress as it happens.")] = False,
    detach: Annotated[bool, typer.Option(help=DETACH_HELP)] = False,
) -> None:
    """Run a DSL workflow and print its output; a fault exits 1 with the DSL error."""
    from stigmer.engine.loader import LoadError, load_path
    from stigmer.engine.validation import validate_document

    _refuse_follow_detached(follow, detach)
    data = _json_argument(input, "--input")
    try:
        loaded = load_path(file)
    except LoadError as exc:  # not YAML or JSON, or unreadable: the file and line say where
        error(exc)
        raise typer.Exit(1) from None
    problems = validate_document(loaded)
    if problems:
        for problem in problems:
            error(problem)
        raise typer.Exit(1)
    document = loaded.data

    async def work(client: Client) -> pb.Execution:
        created = await client.run_workflow(document=document, input=data)
        return created.execution if detach else await _finish(client, created.execution, follow)

    execution = call_api(ctx, work)
    if detach:
        _print_started(execution, output)
    else:
        _exit_with(execution, output or Output.json, result=_workflow_output(execution))


def _workflow_output(execution: pb.Execution) -> Any:
    from stigmer.resources.values import to_json

    status = execution.status
    return to_json(status.structured) if status.HasField("structured") else None


@agent_app.command("run")
def agent_run(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The agent.", show_default=False)],
    message: Annotated[str, typer.Argument(help="What to ask it.", show_default=False)],
    env: Annotated[list[str] | None, typer.Option(help="NAME=VALUE, repeatable.")] = None,
    follow: Annotated[bool, typer.Option(help="Show messages and todos as they happen.")] = False,
    detach: Annotated[bool, typer.Option(help=DETACH_HELP)] = False,
    output: Annotated[Output | None, OUTPUT] = None,
) -> None:
    """Run an agent directly (no workflow, no callback) and wait for its end."""
    _refuse_follow_detached(follow, detach)
    variables = dict(item.split("=", 1) for item in env or [] if "=" in item)

    async def work(client: Client) -> pb.Execution:
        created = await client.run_agent(name, message, env=variables)
        return created.execution if detach else await _finish(client, created.execution, follow)

    execution = call_api(ctx, work)
    if detach:
        _print_started(execution, output)
    else:
        _exit_with(execution, output or Output.table, result=execution_dict(execution))


def _refuse_follow_detached(follow: bool, detach: bool) -> None:
    if follow and detach:
        raise typer.BadParameter(
            "--follow waits for the end and --detach does not: give one of them",
            param_hint="--follow/--detach",
        )


def _print_started(execution: pb.Execution, output: Output | None) -> None:
    """A detached start: the bare id for scripts (`ID=$(stigmer run ... --detach)`)."""
    if output in (Output.json, Output.yaml):
        emit(execution_dict(execution), output)
    else:
        typer.echo(execution.id)


async def _finish(client: Client, execution: pb.Execution, follow: bool) -> pb.Execution:
    from stigmer.resources.executions import KIND_NAMES

    if follow:
        errors.print(f"{KIND_NAMES[execution.spec.kind]} [bold]{execution.id}[/]")
    view = ProgressView() if follow else None
    last = execution
    async for last in client.watch(execution.id):
        if view is not None:
            view.show(last)
    return last


def _exit_with(execution: pb.Execution, output: Output, *, result: Any) -> None:
    from stigmer.api.v1 import stigmer_pb2 as pb

    failed = execution.status.phase != pb.COMPLETED
    if output == Output.table:
        _describe(execution)
    elif failed:
        emit(execution_dict(execution)["status"].get("error", {"phase": phase(execution)}), output)
    else:
        emit(result, output)
    if failed:
        raise typer.Exit(1)


# ----------------------------------------------------------------- executions


@executions_app.command("list")
def list_executions(
    ctx: typer.Context,
    kind: Annotated[str | None, typer.Option(help="agent or workflow")] = None,
    phase_filter: Annotated[
        list[str] | None, typer.Option("--phase", help="PENDING, IN_PROGRESS, COMPLETED, ...")
    ] = None,
    target: Annotated[str, typer.Option(help="Agent or workflow name.")] = "",
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
    output: Annotated[Output, OUTPUT] = Output.table,
) -> None:
    """List executions, newest first."""
    from stigmer.api.v1 import stigmer_pb2 as pb
    from stigmer.resources.executions import KIND_NAMES

    kinds = {"agent": "AGENT_EXECUTION", "workflow": "WORKFLOW_EXECUTION"}
    if kind is not None and kind not in kinds:
        raise typer.BadParameter("expected agent or workflow", param_hint="--kind")
    phases = [p.upper() for p in phase_filter or []]
    bad = [p for p in phases if p not in pb.Phase.keys()]  # noqa: SIM118
    if bad:
        raise typer.BadParameter(f"unknown phase(s) {bad}", param_hint="--phase")
    found = call_api(
        ctx,
        lambda client: client.list_executions(
            kind=kinds[kind] if kind else None, phases=phases, target=target, page_size=limit
        ),
    ).executions
    if output != Output.table:
        emit([execution_dict(e) for e in found], output)
        return
    rows = [
        [
            e.id,
            KIND_NAMES.get(e.spec.kind, "?"),
            e.spec.agent.agent or e.spec.workflow.workflow or "(inline)",
            styled_phase(e),
            e.status.created_at.ToJsonString(),
            pb.CallbackOutcome.Name(e.status.callback.outcome).removeprefix("CALLBACK_")
            if e.status.callback.workflow_id
            else "-",
        ]
        for e in found
    ]
    table("executions", ["ID", "KIND", "TARGET", "PHASE", "CREATED", "CALLBACK"], rows)


@executions_app.command("get")
def get_execution(
    ctx: typer.Context,
    execution_id: Annotated[str, typer.Argument(metavar="ID", show_default=False)],
    output: Annotated[Output, OUTPUT] = Output.yaml,
) -> None:
    """Show one execution."""
    execution = call_api(ctx, lambda client: client.execution(execution_id))
    if output == Output.table:
        _describe(execution)
    else:
        emit(execution_dict(execution), output)


@executions_app.command("watch")
def watch_execution(
    ctx: typer.Context,
    execution_id: Annotated[str, typer.Argument(metavar="ID", show_default=False)],
) -> None:
    """Follow an execution until it ends: phase, messages, todos and tasks as they change."""

    async def work(client: Client) -> pb.Execution:
        view = ProgressView()
        last = None
        async for last in client.watch(execution_id):
            view.show(last)
        assert last is not None
        return last

    _describe(call_api(ctx, work))


@executions_app.command("cancel")
def cancel_execution(
    ctx: typer.Context,
    execution_id: Annotated[str, typer.Argument(metavar="ID", show_default=False)],
    reason: Annotated[str, typer.Option(help="Recorded with the cancellation.")] = "",
) -> None:
    """Cancel an execution; its caller's task fails with a cancellation error."""
    execution = call_api(
        ctx, lambda client: client.cancel(execution_id, reason, operator=operator())
    )
    console.print(f"{execution.id}: cancel requested ({phase(execution)})")


@executions_app.command("complete")
def complete_execution(
    ctx: typer.Context,
    execution_id: Annotated[str, typer.Argument(metavar="ID", show_default=False)],
    output_text: Annotated[
        str, typer.Option("--output", help="The final output its caller receives.")
    ],
    reason: Annotated[str, typer.Option(help="Why; recorded with your user name.")] = "",
) -> None:
    """Finish a stuck execution as completed and complete its caller through the token."""
    execution = call_api(
        ctx,
        lambda client: client.complete(
            execution_id, output_text, operator=operator(), reason=reason
        ),
    )
    _describe(execution)


@executions_app.command("fail")
def fail_execution(
    ctx: typer.Context,
    execution_id: Annotated[str, typer.Argument(metavar="ID", show_default=False)],
    reason: Annotated[str, typer.Option(help="Why; the error its caller receives.")],
) -> None:
    """Finish a stuck execution as failed and fail its caller through the token."""
    execution = call_api(ctx, lambda client: client.fail(execution_id, reason, operator=operator()))
    _describe(execution)


def operator() -> str:
    """Who runs the command, as they say: the audit record on the execution keeps it as a
    claim beside the operator the API checked (the token and the address of the call)."""
    import getpass
    import socket

    try:
        return f"{getpass.getuser()}@{socket.gethostname()}"
    except (KeyError, OSError):  # no user name for this uid (containers)
        return f"unknown@{socket.gethostname()}"


@executions_app.command("result")
def execution_result(
    ctx: typer.Context,
    execution_id: Annotated[str, typer.Argument(metavar="ID", show_default=False)],
    output: Annotated[Output, OUTPUT] = Output.json,
) -> None:
    """The full result of an execution, including one stored apart for its size."""
    from stigmer.resources.values import to_json

    result = call_api(ctx, lambda client: client.result(execution_id))
    emit(to_json(result), output)


# ------------------------------------------------------------------- display


class ProgressView:
    """Prints what changed since the last view of an execution, as readable lines."""

    def __init__(self) -> None:
        self.phase = ""
        self.messages = 0
        self.todos: list[tuple[str, str]] = []
        self.tasks: dict[str, tuple[str, str]] = {}

    def show(self, execution: pb.Execution) -> None:
        from stigmer.resources.executions import repetition

        status = execution.status
        for message in status.messages[self.messages :]:
            label = f"{message.role}" + (f" {message.tool_name}" if message.tool_name else "")
            console.print(f"  [dim]{escape(label)}:[/] {escape(message.content)}", highlight=False)
        self.messages = len(status.messages)
        todos = [(t.content, t.status) for t in status.todos]
        if todos != self.todos:
            marks = {"completed": "[green]✔[/]", "in_progress": "[cyan]…[/]"}
            console.print(
                "  todos: " + "  ".join(f"{marks.get(s, '☐')} {escape(c)}" for c, s in todos)
            )
            self.todos = todos
        for task in status.tasks:
            seen = (task.status, repetition(task))
            if self.tasks.get(task.path) != seen:
                called = f" -> {task.execution_id}" if task.execution_id else ""
                count = f" ({seen[1]})" if seen[1] else ""
                line = f"  task {task.path}: {task.status}{count}{called}"
                console.print(escape(line), highlight=False)
                self.tasks[task.path] = seen
        if phase(execution) != self.phase:
            self.phase = phase(execution)
            console.print(f"{execution.id}: {styled_phase(execution)}")


def _describe(execution: pb.Execution) -> None:
    from stigmer.api.v1 import stigmer_pb2 as pb
    from stigmer.resources.executions import KIND_NAMES
    from stigmer.resources.values import to_json

    status = execution.status
    console.print(f"[bold]{execution.id}[/] {KIND_NAMES.get(execution.spec.kind, '')}")
    console.print(f"  phase: {styled_phase(execution)}")
    if status.output:
        console.print(f"  output: {escape(status.output)}", highlight=False)
    if status.HasField("structured"):
        console.print(f"  structured: {escape(json.dumps(to_json(status.structured)))}")
    if status.result_ref:
        console.print(f"  result stored apart: stigmer executions result {execution.id}")
    if status.HasField("error"):
        problem = status.error
        console.print(f"  error: [red]{escape(problem.title)}[/] {escape(problem.detail)}")
    if status.callback.workflow_id:
        outcome = pb.CallbackOutcome.Name(status.callback.outcome).removeprefix("CALLBACK_")
        console.print(
            f"  caller: {status.callback.workflow_id} ({status.callback.activity_id}) "
            f"attempt {status.callback.attempt}, callback {outcome.lower()}"
        )
