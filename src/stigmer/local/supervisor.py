"""Process supervision behind ``stigmer server``: one process, every part, one clean exit.

Order matters both ways. Temporal starts first because every component talks to it, and
stops last so that workers can finish their in-flight calls and the API can answer its
last requests. SIGINT and SIGTERM both mean "stop cleanly"; if the embedded Temporal
dies on its own, the platform stops too rather than run without its backbone.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Protocol

from rich.console import Console
from rich.table import Table
from rich.text import Text
from temporalio.converter import DataConverter

from stigmer.config import Settings
from stigmer.errors import PlatformError
from stigmer.local.embedded import EmbeddedTemporal
from stigmer.local.preflight import run_preflight
from stigmer.temporal import connect_temporal

DEFAULT_STOP_GRACE = 10.0
SUMMARY_ORDER = ("API", "Console", "Temporal", "Temporal UI", "Metrics")
"""Where users look first; lines with other labels follow in the order given."""


class Component(Protocol):
    """A long-running part of the platform that the supervisor starts and stops.

    ``stop`` is also called after a ``start`` that failed or was interrupted, so it must
    tolerate a partial start. ``summary`` gives the (label, where) lines shown once
    everything is ready, e.g. ``("API", "127.0.0.1:7234")``; empty to show nothing.
    """

    @property
    def name(self) -> str: ...

    def summary(self) -> Sequence[tuple[str, str]]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


ComponentFactory = Callable[[Settings], Sequence[Component]]
"""Builds the components once Temporal is up; ``settings.temporal_target`` is where it is."""


async def run_platform(
    settings: Settings,
    *,
    components: ComponentFactory,
    console: Console | None = None,
    stop_grace: float = DEFAULT_STOP_GRACE,
    owns_data_dir: bool = True,
) -> None:
    """Run Temporal (embedded unless ``settings.temporal_address``) and the components.

    Returns after SIGINT or SIGTERM once everything has stopped. Raises ``PlatformError``
    when something fails to start or the embedded Temporal dies; whatever had started is
    stopped first. Must run on the main thread, which owns signal handling.
    """
    out = console or Console()
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        loop.add_signal_handler(signum, stop_requested.set)
    try:
        lock = run_preflight(settings, owns_data_dir=owns_data_dir)
        try:
            platform = _Platform(settings, components, stop_grace)
            try:
                if await _unless_stopped(platform.start(), stop_requested):
                    out.print(platform.summary())
                    out.file.flush()
                    await platform.run_until(stop_requested)
            finally:
                await platform.stop()
        finally:
            if lock is not None:
                lock.release()
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)


def serve(
    settings: Settings,
    *,
    components: ComponentFactory,
    console: Console | None = None,
    stop_grace: float = DEFAULT_STOP_GRACE,
    owns_data_dir: bool = True,
) -> int:
    """``run_platform`` for a command line: the exit code, with errors printed to stderr."""
    try:
        asyncio.run(
            run_platform(
                settings,
                components=components,
                console=console,
                stop_grace=stop_grace,
                owns_data_dir=owns_data_dir,
            )
        )
    except PlatformError as err:
        Console(stderr=True).print(Text("error: ", style="bold red") + Text(str(err)))
        return 1
    return 0


async def _unless_stopped(work: Coroutine[Any, Any, None], stop_requested: asyncio.Event) -> bool:
    """Run ``work`` unless a stop is requested first (then cancel it); True if it finished."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop_requested.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if task.done():
        task.result()
        return True
    task.cancel()
    # asyncio.wait, not await: a cancellation of this coroutine itself must propagate.
    await asyncio.wait({task})
    if not task.cancelled():
        task.exception()  # a start that failed while being interrupted changes nothing
    return False


class _Platform:
    """What has been started so far, so that stopping undoes exactly that, in reverse."""

    def __init__(self, settings: Settings, factory: ComponentFactory, stop_grace: float) -> None:
        self.settings = settings
        self.factory = factory
        self.stop_grace = stop_grace
        self.temporal: EmbeddedTemporal | None = None
        self.started: list[Component] = []
        self._errors = Console(stderr=True)

    async def start(self) -> None:
        if self.settings.embedded_temporal:
            self.temporal = EmbeddedTemporal.from_settings(self.settings)
            await self.temporal.start()
        else:
            # Fail here, with the address, rather than in every component at once (no
            # payload is exchanged: the payload keys may not be made yet).
            await connect_temporal(self.settings, data_converter=DataConverter.default)
        try:
            components = list(self.factory(self.settings))
        except Exception as err:
            raise PlatformError(f"cannot set up the platform's components: {err}") from err
        for component in components:
            self.started.append(component)
            try:
                await component.start()
            except Exception as err:
                raise PlatformError(f"{component.name} failed to start: {err}") from err

    async def run_until(self, stop_requested: asyncio.Event) -> None:
        """Wait for a stop request; raise if the embedded Temporal exits before one."""
        if self.temporal is None:
            await stop_requested.wait()
            return
        watcher = asyncio.ensure_future(self.temporal.wait_exited())
        stopper = asyncio.ensure_future(stop_requested.wait())
        try:
            await asyncio.wait({watcher, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            watcher.cancel()
            stopper.cancel()
        if not stop_requested.is_set():
            raise PlatformError(
                f"embedded Temporal exited unexpectedly with code {self.temporal.returncode}; "
                f"see {self.temporal.log_path}"
            )

    async def stop(self) -> None:
        """Stop components in reverse, each bounded, then Temporal; never raise."""
        while self.started:
            component = self.started.pop()
            try:
                await asyncio.wait_for(component.stop(), timeout=self.stop_grace)
            except TimeoutError:
                self._warn(f"{component.name} did not stop within {self.stop_grace:g}s")
            except Exception as err:
                self._warn(f"{component.name} failed to stop cleanly: {err}")
        if self.temporal is not None:
            await self.temporal.stop(self.stop_grace)

    def summary(self) -> Table:
        lines: list[tuple[str, str]] = [
            line for component in self.started for line in component.summary()
        ]
        if self.temporal is not None:
            lines.append(("Temporal", self.temporal.address))
            if self.temporal.ui_url is not None:
                lines.append(("Temporal UI", self.temporal.ui_url))
        else:
            where = (
                f"{self.settings.temporal_target} (namespace {self.settings.temporal_namespace})"
            )
            lines.append(("Temporal", where))
        rank = {label: index for index, label in enumerate(SUMMARY_ORDER)}
        lines.sort(key=lambda line: rank.get(line[0], len(rank)))
        table = Table.grid(padding=(0, 2))
        table.title = "stigmer is ready"
        table.title_justify = "left"
        table.add_column(style="bold")
        table.add_column()
        for label, where in lines:
            table.add_row(label, where)
        table.add_row("Data", str(self.settings.data_dir))
        return table

    def _warn(self, message: str) -> None:
        self._errors.print(Text("warning: ", style="yellow") + Text(message))
