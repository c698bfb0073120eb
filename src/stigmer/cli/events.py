"""`stigmer events send`: a CloudEvent to the workflows that listen for it."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from stigmer.cli.common import call_api
from stigmer.cli.render import Output, console, emit

events_app = typer.Typer(
    help="CloudEvents for workflows that listen.", no_args_is_help=True, rich_markup_mode=None
)


def register(app: typer.Typer) -> None:
    app.add_typer(events_app, name="events")


@events_app.command("send")
def send(
    ctx: typer.Context,
    type_: Annotated[str, typer.Option("--type", help="The event type.", show_default=False)],
    source: Annotated[str, typer.Option(help="Where the event comes from (a URI).")] = (
        "stigmer://cli"
    ),
    data: Annotated[str | None, typer.Option(help="The payload, JSON.")] = None,
    subject: Annotated[str | None, typer.Option(help="The event's subject.")] = None,
    execution: Annotated[
        str, typer.Option(help="Send to this workflow execution only (it may listen later).")
    ] = "",
    output: Annotated[Output, typer.Option("-o", "--output")] = Output.table,
) -> None:
    """Publish an event: every listening run receives it, or `--execution` alone."""
    event: dict[str, Any] = {"type": type_, "source": source}
    if data is not None:
        try:
            event["data"] = json.loads(data)
        except json.JSONDecodeError as exc:
            raise typer.BadParameter(f"not valid JSON: {exc}", param_hint="--data") from None
    if subject is not None:
        event["subject"] = subject
    response = call_api(ctx, lambda client: client.publish_event(event, execution))
    delivered = list(response.delivered_to)
    if output != Output.table:
        emit({"delivered_to": delivered}, output)
    else:
        console.print(f"sent to {len(delivered)} execution(s): {', '.join(delivered) or '-'}")
