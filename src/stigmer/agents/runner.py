"""The runner activity: runs one agent execution on the `stigmer-runner` queue.

It heartbeats while the agent works, so a dead runner is noticed in seconds and the run
is retried elsewhere; the retry starts the agent over and says so on the execution,
keeping what was already recorded. Cancellation arrives through the heartbeat and is
asyncio cancellation of this activity: it stops the agent's code or model loop at its
next await, an open provider request included.

The agent's result is returned to the execution's workflow, where Temporal keeps it:
nothing is recorded from here but progress, so an API that is down when the agent ends
loses nothing and runs nothing again. A result over the size budget is stored through
the API first and returned by reference; one over a size limit (the API's message limit,
Temporal's payload limit), like a report over one, fails the run `too-large` at once,
never retried. Every report carries the attempt, so a runner that a newer attempt
replaced is refused and stops.

Secrets named by the agent are resolved here, at execution time, and every report,
result, error and log line of the run is redacted of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import structlog
from google.protobuf import json_format
from temporalio import activity

from stigmer.agents import errors
from stigmer.agents.context import AgentContext
from stigmer.agents.progress import Reporter
from stigmer.agents.secrets import MissingSecret, Resolver
from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.api_failures import MESSAGE_LIMIT, ApiError, TooLarge, persistently
from stigmer.client import WorkerClient
from stigmer.contract.inputs import AgentResult
from stigmer.contract.limits import MAX_MESSAGE_BYTES, over_limit
from stigmer.contract.names import RUN_AGENT_ACTIVITY
from stigmer.contract.payloads import PAYLOAD_LIMIT, PAYLOAD_ROOM, payload_size
from stigmer.contract.problems import Fault
from stigmer.permissions import Permissions
from stigmer.redaction import Redactor, active
from stigmer.resources.agent import AgentSpec
from stigmer.resources.values import to_json
from stigmer.secrets import SecretStore

log = structlog.get_logger("stigmer.agents")

Entrypoint = Callable[[str, AgentContext], Awaitable[str | dict[str, Any]]]
T = TypeVar("T")
HEARTBEATS_PER_TIMEOUT = 4
FLUSH_SECONDS = 2.0
"""How long a finished agent waits for its last progress reports to be sent; what is
still unsent then goes with its result."""
SPECS_KEPT = 256
"""Agent specs a runner keeps, by name and version: a version is the hash of its content,
so its spec never changes, and a call to a known version needs no request or parse."""


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
    def __init__(
        self,
        api: WorkerClient,
        result_size_budget: int,
        secrets: SecretStore,
        permissions: Permissions,
    ) -> None:
        self.api = api
        self.budget = result_size_budget
        self.secrets = secrets
        self.permissions = permissions
        """What this runner's operator lets agents do (MCP stdio servers, files)."""
        self._specs: dict[tuple[str, str], AgentSpec] = {}

    @activity.defn(name=RUN_AGENT_ACTIVITY)
    async def run_agent(self, execution_id: str) -> AgentResult:
        attempt = activity.info().attempt
        redactor = Redactor()
        beating = asyncio.create_task(_heartbeat())
        try:
            with active(redactor):  # log lines of the run, libraries' included
                return await self._attempt(execution_id, attempt, redactor)
        except asyncio.CancelledError:
            log.info("agent cancelled", execution_id=execution_id)
            raise
        except Fault as exc:
            failure = errors.application_error(exc, redactor)
            log.info("agent failed", execution_id=execution_id, error=failure.message)
            raise failure from None
        finally:
            beating.cancel()

    async def _attempt(self, execution_id: str, attempt: int, redactor: Redactor) -> AgentResult:
        execution = await _patiently(lambda: self.api.execution(execution_id))
        call = execution.spec.agent
        spec = await self._spec(call.agent, call.agent_version)
        reporter = Reporter(self.api, execution_id, attempt, redactor)
        reporter.start()
        log.info("agent running", execution_id=execution_id, agent=call.agent, attempt=attempt)
        try:
            output, structured, has_structured = await self._run_fenced(
                spec, execution, attempt, reporter
            )
        except asyncio.CancelledError:
            await reporter.close(0)
            raise
        except BaseException:
            await reporter.close(FLUSH_SECONDS)  # the last steps before a failure still show
            raise
        left = await reporter.close(FLUSH_SECONDS)
        if reporter.refusal is not None:  # a report over a size limit: the run fails
            raise Fault(reporter.refusal)
        result = AgentResult(
            attempt,
            execution_id=execution_id,
            output=output,
            structured=structured,
            has_structured=has_structured,
            usage=_usage(reporter.usage_total),
            messages=[_json(message) for message in left.messages],
            todos=None if left.todos is None else [_json(todo) for todo in left.todos],
        )
        return await self._by_reference_if_large(execution_id, result)

    async def _spec(self, agent: str, version: str) -> AgentSpec:
        """The agent's spec at `version`, fetched once per version (every call pins one)."""
        key = (agent, version)
        spec = self._specs.get(key)
        if spec is None:
            definition = await _patiently(lambda: self.api.get("agent", agent, version))
            spec = AgentSpec.model_validate(to_json(definition.spec))
            if version:
                if len(self._specs) >= SPECS_KEPT:
                    del self._specs[next(iter(self._specs))]  # the oldest
                self._specs[key] = spec
        return spec

    async def _run_fenced(
        self, spec: AgentSpec, execution: pb.Execution, attempt: int, reporter: Reporter
    ) -> tuple[str, Any, bool]:
        """Run the agent; stop it if this attempt is cancelled, or a newer attempt takes
        the execution over."""
        work = asyncio.create_task(self._run(spec, execution, attempt, reporter))
        fenced = asyncio.create_task(reporter.fenced.wait())
        try:
            await asyncio.wait([work, fenced], return_when=asyncio.FIRST_COMPLETED)
        finally:
            fenced.cancel()
            if not work.done():
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await work
        if work.cancelled():
            if reporter.refusal is not None:
                raise Fault(reporter.refusal)
            raise errors.runtime(
                "Runner superseded",
                f"attempt {attempt} was replaced by a newer attempt or the execution ended",
            )
        return reporter.result(work.result())

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
            ctx = AgentContext(execution.id, call.agent, env, attempt, reporter, self.permissions)
            try:
                return await entrypoint(call.message, ctx)
            except Fault:
                raise  # a typed failure (a refused permission) stays what it is
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
                permissions=self.permissions,
            )
        except Exception as exc:
            raise runtime.typed_error(exc) from None

    async def _by_reference_if_large(self, execution_id: str, result: AgentResult) -> AgentResult:
        """Keep a result over the budget apart, so Temporal carries only its reference; so
        too one whose whole would be over Temporal's payload limit. One too large to keep
        apart (over the API's message limit), or still too large for Temporal without its
        output, fails the run `too-large` at once."""
        size = len(result.output.encode()) + (
            len(json.dumps(result.structured).encode()) if result.has_structured else 0
        )
        if size <= self.budget and payload_size(result) <= PAYLOAD_ROOM:
            return result
        request = pb.PutResultRequest(id=execution_id, attempt=result.attempt, output=result.output)
        if result.has_structured:
            json_format.ParseDict(result.structured, request.structured)
        _within("the agent's result", request.ByteSize(), MAX_MESSAGE_BYTES, MESSAGE_LIMIT)
        response = await _patiently(lambda: self.api.put_result(request))
        result.result_ref = response.result_ref
        result.output, result.structured, result.has_structured = "", None, False
        rest = "the agent's result without its output (its last messages and todos)"
        _within(rest, payload_size(result), PAYLOAD_ROOM, PAYLOAD_LIMIT)
        return result


async def _patiently(call: Callable[[], Awaitable[T]]) -> T:
    """An API call retried while the API is unreachable; the activity's own timeout bounds
    it, and its heartbeat keeps it alive meanwhile. A refusal fails the run: one for a
    size over a limit as `too-large`."""
    try:
        return await persistently(call)
    except TooLarge as exc:
        log.error("agent run refused for its size", error=str(exc))
        raise errors.too_large(str(exc)) from None
    except ApiError as exc:
        raise errors.runtime("Agent run refused by the API", str(exc)) from None


def _within(what: str, size: int, limit: int, of: str) -> None:
    """Fail the run `too-large` (logged) when `size` is over `limit`."""
    if size > limit:
        detail = over_limit(what, size, limit, of)
        log.error("agent result too large", error=detail)
        raise errors.too_large(detail)


def _json(message: pb.AgentMessage | pb.Todo) -> dict[str, Any]:
    found: dict[str, Any] = json_format.MessageToDict(message, preserving_proto_field_name=True)
    return found


def _usage(usage: pb.Usage | None) -> dict[str, int] | None:
    if usage is None:
        return None
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "requests": usage.requests,
    }


async def _heartbeat() -> None:
    """Beat several times per heartbeat timeout (the run's, set by the deployment); the SDK
    sends at most one beat per 80 % of it to Temporal. The first beat waits its turn too:
    an agent that answers sooner costs Temporal no heartbeat at all."""
    timeout = activity.info().heartbeat_timeout or timedelta(seconds=10)
    every = timeout.total_seconds() / HEARTBEATS_PER_TIMEOUT
    while True:
        await asyncio.sleep(every)
        activity.heartbeat()
