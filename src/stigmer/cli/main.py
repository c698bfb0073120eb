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
    # Plain help and errors: rich's help layout loads Markdown and Pygments, which
    # would cost every command more than all the rest of its start.
    rich_markup_mode=None,
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
    tls: Annotated[
        bool | None,
        typer.Option(help="Reach the API over TLS with the system's CAs.", envvar="STIGMER_TLS"),
    ] = None,
    allow_plaintext: Annotated[
        bool | None,
        typer.Option(
            help="Send the token without TLS to an API beyond this machine (trusted networks).",
            envvar="STIGMER_ALLOW_PLAINTEXT",
        ),
    ] = None,
) -> None:
    ctx.obj = {
        "address": address,
        "api_token": token,
        "tls_ca": tls_ca,
        "tls": tls,
        "allow_plaintext": allow_plaintext,
    }


def register(*modules: Any) -> None:
    for module in modules:
        module.register(app)


register(platform, definitions, executions, events, doctor, demo)

if __name__ == "__main__":
    app()
