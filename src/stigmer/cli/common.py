"""What every API-facing command shares: a client from the global options, clear errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer

from stigmer.cli.render import errors
from stigmer.client import ApiError, ApiUnreachable, Client, PlaintextRefused
from stigmer.config import load_settings

T = TypeVar("T")


def connect(ctx: typer.Context) -> Client:
    return Client.from_settings(load_settings(**(ctx.obj or {})))


def call_api(ctx: typer.Context, work: Callable[[Client], Awaitable[T]]) -> T:
    """Run `work` with a client; API errors become one clear line and a non-zero exit."""

    async def run() -> T:
        async with connect(ctx) as client:
            return await work(client)

    try:
        return asyncio.run(run())
    except PlaintextRefused as exc:
        errors.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    except ApiUnreachable as exc:
        errors.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    except ApiError as exc:
        errors.print(f"[red]error:[/] {exc.code.name}: {exc}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
