"""The engine activities of the tasks that call out of the workflow, bound to the settings
they need: where secrets come from and whether processes may run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from temporalio import activity

from stigmer.config import Settings
from stigmer.engine.tasks import grpc, http, mcp, openapi, run_script, run_shell
from stigmer.engine.tasks.remote import Request, fault_boundary
from stigmer.engine.tasks.secrets import SecretSource


class CallActivities:
    """`call: http|openapi|grpc|mcp` and `run: shell|script`, for the engine worker."""

    def __init__(self, settings: Settings) -> None:
        self.secrets = SecretSource(settings.data_dir)
        self.allow_processes = settings.allow_run_processes

    async def _run(self, raw: dict[str, Any], perform: Callable[[Request], Awaitable[Any]]) -> Any:
        async with fault_boundary():
            return await perform(Request.read(raw, self.secrets))

    @activity.defn(name=http.ACTIVITY)
    async def call_http(self, raw: dict[str, Any]) -> Any:
        return await self._run(raw, http.perform)

    @activity.defn(name=openapi.ACTIVITY)
    async def call_openapi(self, raw: dict[str, Any]) -> Any:
        return await self._run(raw, openapi.perform)

    @activity.defn(name=grpc.ACTIVITY)
    async def call_grpc(self, raw: dict[str, Any]) -> Any:
        return await self._run(raw, grpc.perform)

    @activity.defn(name=mcp.ACTIVITY)
    async def call_mcp(self, raw: dict[str, Any]) -> Any:
        return await self._run(
            raw, lambda request: mcp.perform(request, allow_processes=self.allow_processes)
        )

    @activity.defn(name=run_shell.ACTIVITY)
    async def run_shell_command(self, raw: dict[str, Any]) -> Any:
        return await self._run(
            raw, lambda request: run_shell.perform(request, allowed=self.allow_processes)
        )

    @activity.defn(name=run_script.ACTIVITY)
    async def run_script_code(self, raw: dict[str, Any]) -> Any:
        return await self._run(
            raw, lambda request: run_script.perform(request, allowed=self.allow_processes)
        )

    def all(self) -> list[Callable[..., Awaitable[Any]]]:
        """Every activity, for a worker's `activities`."""
        return [
            self.call_http,
            self.call_openapi,
            self.call_grpc,
            self.call_mcp,
            self.run_shell_command,
            self.run_script_code,
        ]
