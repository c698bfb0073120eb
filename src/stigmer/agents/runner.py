"""The runner activity: runs one agent execution on the `stigmer-runner` queue.

It heartbeats while the agent works, so a dead runner is noticed in seconds and the run
is retried elsewhere; the retry starts the agent over and says so on the execution,
keeping what was already recorded. Cancellation arrives through the heartbeat and is
asyncio cancellation of this activity: it stops the agent's code or model loop at its
next await, an open provider request included.

Secrets named by the agent are resolved here, at execution time, and every report,
result, error and log line of the run is redacted of them.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from temporalio import activity

from stigmer.agents import errors
from stigmer.agents.context import AgentContext
from stigmer.agents.progress import Reporter
from stigmer.agents.secrets import (
    EnvironmentSecrets,
    MissingSecret,
    Redactor,
    Resolver,
    SecretSource,
)
from stigmer.agents.workflow import RUNNER_HEARTBEAT_TIMEOUT
from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import ApiError, ApiUnreachable, Client
from stigmer.contract.names import RUN_AGENT_ACTIVITY
from stigmer.contract.problems import Fault
from stigmer.resources.agent import AgentSpec
from stigmer.resources.values import to_json

log = structlog.get_logger("stigmer.agents")

Entrypoint = Callable[[str, AgentContext], Awaitable[str | dict[str, Any]]]
HEARTBEAT_EVERY = RUNNER_HEARTBEAT_TIMEOUT.total_seconds() / 4


def load_entrypoint(reference: str) -> Entrypoint:
    module_name, _, function_name = reference.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as exc:
        raise errors.runtime("Agent entrypoint not found", f"{reference}: {exc}") from None
    if not inspect.iscoroutinefunction(function):
        raise errors.runtime("Agent entrypoint unusable", f"{reference} is not an async function")
    return function  # type: ignore[no-any-return]


class RunnerActivities:
    def __init__(self, api: Client, secrets: SecretSource | None = None) -> None:
        self.api = api
        self.secrets: SecretSource = secrets or EnvironmentSecrets()

    @activity.defn(name=RUN_AGENT_ACTIVITY)
    async def run_agent(self, execution_id: str) -> None:
        attempt = activity.info().attempt
        execution = await self.api.execution(execution_id)
        call = execution.spec.agent
        definition = await self.api.get("agent", call.agent, call.agent_version)
        spec = AgentSpec.model_validate(to_json(definition.spec))
        redactor = Redactor()
        reporter = Reporter(self.api, execution_id, redactor)
        log.info("agent running", execution_id=execution_id, agent=call.agent, attempt=attempt)
        beating = asyncio.create_task(_heartbeat())
        try:
            result = await self._run(spec, execution, attempt, reporter)
        except asyncio.CancelledError:
            log.info("agent cancelled", execution_id=execution_id)
            raise
        except Fault as exc:
            failure = errors.application_error(exc, redactor)
            log.info("agent failed", execution_id=execution_id, error=failure.message)
            raise failure from None
        finally:
            beating.cancel()
        await reporter.result(result)

    async def _run(
        self, spec: AgentSpec, execution: pb.Execution, attempt: int, reporter: Reporter
    ) -> str | dict[str, Any]:
        call = execution.spec.agent
        resolver = Resolver(self.secrets, reporter.redactor)
        try:
            env = {**resolver.mapping(spec.env), **call.env}
            resolver.check(spec.secret_names())
        except MissingSecret as exc:
            raise errors.configuration("Agent secret missing", str(exc)) from None
        if attempt > 1:
            await reporter.message(
                f"the runner was lost; attempt {attempt} starts the agent over", role="system"
            )
        if spec.entrypoint is not None:
            entrypoint = load_entrypoint(spec.entrypoint)
            ctx = AgentContext(execution.id, call.agent, env, attempt, reporter)
            try:
                return await entrypoint(call.message, ctx)
            except (ApiError, ApiUnreachable):
                raise  # the platform, not the agent: retried by starting over
            except Exception as exc:
                raise errors.runtime("Agent failed", f"{type(exc).__name__}: {exc}") from None
        # Imported on the first model run only: the model libraries take seconds to load,
        # and every `stigmer` command imports this module (through the workers).
        from stigmer.agents import runtime

        if attempt == 1:  # a restart keeps the question already recorded
            await reporter.message(call.message, role="user")
        try:
            return await runtime.run_model_agent(
                spec,
                call.message,
                env=env,
                resolver=resolver,
                reporter=reporter,
                usage_so_far=execution.status.usage,
            )
        except (ApiError, ApiUnreachable):
            raise
        except Exception as exc:
            raise runtime.typed_error(exc) from None


async def _heartbeat() -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(HEARTBEAT_EVERY)
