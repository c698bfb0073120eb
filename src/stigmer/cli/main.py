"""The `stigmer` command: one entry point, with a module per group of subcommands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from stigmer.cli import definitions, demo, doctor, events, executions, platform

app = typer.Typer(
    name="stigmer",
    help="Run long-running AI agents from Open Workflow DSL workflows, durably.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def main(
    ctx: typer.Context,
    address: Annotated[
        str | None,
        typer.Option(help="Where the API listens (host:port).", envvar="STIGMER_ADDRESS"),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            help="Bearer token for the API.", envvar="STIGMER_API_TOKEN", show_default=False
        ),
    ] = None,
    tls_ca: Annotated[
        Path | None, typer.Option(help="CA bundle to trust for a TLS API.", envvar="STIGMER_TLS_CA")
    ] = None,
) -> None:
    ctx.obj = {"address": address, "api_token": token, "tls_ca": tls_ca}


def register(*modules: Any) -> None:
    for module in modules:
        module.register(app)


register(platform, definitions, executions, events, doctor, demo)

if __name__ == "__main__":
    app()
