"""The `stigmer` command: one entry point, with a module per group of subcommands.

A start builds only the modules of the commands its arguments name (all of them for
`stigmer --help` or a name no module has): typer reads every parameter of every command
it registers, which would cost each command as much as its own work.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated

import typer

COMMANDS = {
    "platform": ("server", "worker"),
    "definitions": ("apply", "get", "list", "delete", "validate"),
    "executions": ("run", "executions", "agent"),
    "events": ("events",),
    "doctor": ("doctor",),
    "keys": ("keys",),
    "demo": ("demo",),
}
"""The modules of `stigmer.cli` and the top-level commands each registers, in help order."""


def global_options(
    ctx: typer.Context,
    address: Annotated[
        str | None,
        typer.Option(help="Where the API listens (host:port).", envvar="STIGMER_ADDRESS"),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            help="Bearer token for the API; STIGMER_API_TOKEN or --token-file keep it out of ps.",
            envvar="STIGMER_API_TOKEN",
            show_default=False,
        ),
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option(
            help="A file holding the bearer token for the API.",
            envvar="STIGMER_API_TOKEN_FILE",
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
    from stigmer.cli.common import warn_of_a_token_on_the_command_line

    warn_of_a_token_on_the_command_line(ctx)
    ctx.obj = {
        "address": address,
        "api_token": token,
        "api_token_file": token_file,
        "tls_ca": tls_ca,
        "tls": tls,
        "allow_plaintext": allow_plaintext,
    }


def build(modules: Iterable[str] = COMMANDS) -> typer.Typer:
    """The `stigmer` app with the commands of `modules`."""
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
    app.callback()(global_options)
    for module in modules:
        importlib.import_module(f"stigmer.cli.{module}").register(app)
    return app


def modules_named(args: Sequence[str]) -> list[str]:
    """The modules of the commands named in `args`; every module when none is.

    Any argument may name the command (a global option's value comes before it), so a
    value that happens to be a command's name only adds that command's module.
    """
    given = set(args)
    named = [module for module, commands in COMMANDS.items() if given & set(commands)]
    return named or list(COMMANDS)


def main() -> None:
    """The console script: `stigmer ARGS`; a platform that cannot start says why, once."""
    from stigmer.errors import PlatformError

    try:
        build(modules_named(sys.argv[1:]))()
    except PlatformError as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise SystemExit(2) from None


@functools.cache
def _whole_app() -> typer.Typer:
    return build()


def __getattr__(name: str) -> typer.Typer:
    """`app`: every command, for programs and tests that drive the CLI in-process."""
    if name == "app":
        return _whole_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    main()
