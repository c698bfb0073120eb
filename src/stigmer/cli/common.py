"""What every API-facing command shares: a client from the global options, clear errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from stigmer.cli.render import error

if TYPE_CHECKING:
    from stigmer.client import Client

T = TypeVar("T")


def connect(ctx: typer.Context) -> Client:
    """A client from the global options, which already read their `STIGMER_*` variables.

    The settings model is not loaded here: it costs a command more than all else it does.
    """
    from stigmer.client import Client
    from stigmer.user_token import resolve

    given: dict[str, Any] = ctx.obj or {}
    defaults = {"address": given["address"]} if given.get("address") else {}
    return Client(
        **defaults,
        token=resolve(given.get("api_token"), given.get("api_token_file")),
        tls_ca=given.get("tls_ca"),
        tls=bool(given.get("tls")),
        allow_plaintext=bool(given.get("allow_plaintext")),
    )


def warn_of_a_token_on_the_command_line(ctx: typer.Context) -> None:
    """A token given as `--token` is readable by every user of the machine: say so."""
    from stigmer.user_token import ON_COMMAND_LINE

    source = ctx.get_parameter_source("token")  # typer's own copy of click's enum
    if source is not None and source.name == "COMMANDLINE" and ctx.params.get("token"):
        typer.echo(ON_COMMAND_LINE, err=True)


def call_api(ctx: typer.Context, work: Callable[[Client], Awaitable[T]]) -> T:
    """Run `work` with a client; API errors become one clear line and a non-zero exit."""
    import asyncio

    from stigmer.client import ApiError, ApiUnreachable, PlaintextRefused
    from stigmer.user_token import TokenError

    async def run() -> T:
        async with connect(ctx) as client:
            return await work(client)

    try:
        return asyncio.run(run())
    except (PlaintextRefused, ApiUnreachable, TokenError) as exc:
        error(exc)
        raise typer.Exit(2) from None
    except ApiError as exc:
        error(f"{exc.code.name}: {exc}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
