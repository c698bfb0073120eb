"""The model loop of a model agent, on pydantic-ai.

The loop is pydantic-ai's; what Stigmer adds is a capability (`Progress`) hooked into
it that reports every model message, tool call and tool result on the execution as it
happens, keeps the usage current, and retries transient provider errors (rate limits,
timeouts, an unavailable provider) with a bounded backoff, saying so on the execution.
The provider SDKs' own hidden retries are turned off so there is one retry policy, and
it is visible. Cancellation is plain asyncio cancellation of the run: the runner's
activity task is cancelled when Temporal delivers a cancel through its heartbeat.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from pydantic_ai import Agent, ModelRetry, StructuredDict
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.capabilities.abstract import ValidatedToolArgs, WrapToolExecuteHandler
from pydantic_ai.exceptions import ModelAPIError, RetryModelRequest, UserError
from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models import ModelRequestContext
from pydantic_ai.settings import ModelSettings
from pydantic_ai.tools import RunContext, ToolDefinition
from pydantic_ai.toolsets import AbstractToolset
from pydantic_core import to_jsonable_python

from stigmer.agents import errors
from stigmer.agents.mcp import mcp_toolset
from stigmer.agents.models import TRANSIENT, build_model, provider_error
from stigmer.agents.progress import Reporter
from stigmer.agents.secrets import Resolver
from stigmer.agents.tools import builtin_tools
from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.contract.problems import Fault
from stigmer.permissions import Permissions
from stigmer.resources.agent import AgentSpec, McpTool

MODEL_ATTEMPTS = 5
"""Attempts at one model request when the provider fails transiently."""
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 30.0
OUTPUT_RETRIES = 3
"""How often the model may redo a result that does not match the output schema."""


def backoff(failures: int, retry_after: float | None) -> float:
    """Seconds to wait after the n-th failure: the provider's ask, else doubling, capped."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), BACKOFF_MAX_SECONDS)
    return float(min(BACKOFF_FIRST_SECONDS * 2 ** (failures - 1), BACKOFF_MAX_SECONDS))


@dataclass
class Progress(AbstractCapability[Any]):
    """Reports the run on the execution as it happens; retries transient provider errors."""

    reporter: Reporter | None = None
    usage: pb.Usage = field(default_factory=pb.Usage)
    failures: int = 0
    """Transient failures in a row of the current model request."""

    @property
    def _reporter(self) -> Reporter:
        assert self.reporter is not None
        return self.reporter

    async def after_model_request(
        self,
        ctx: RunContext[Any],
        *,
        request_context: ModelRequestContext,
        response: ModelResponse,
    ) -> ModelResponse:
        self.failures = 0
        self.usage.input_tokens += response.usage.input_tokens
        self.usage.output_tokens += response.usage.output_tokens
        self.usage.requests += 1
        output_tools = {t.name for t in request_context.model_request_parameters.output_tools}
        for part in response.parts:
            if isinstance(part, TextPart) and part.content.strip():
                await self._reporter.message(part.content, role="assistant")
            elif isinstance(part, ToolCallPart) and part.tool_name not in output_tools:
                await self._reporter.message(
                    part.args_as_json_str(),
                    role="tool_call",
                    tool_name=part.tool_name,
                    data=part.args_as_dict(),
                )
        await self._reporter.usage(self.usage)
        return response

    async def wrap_tool_execute(
        self,
        ctx: RunContext[Any],
        *,
        call: ToolCallPart,
        tool_def: ToolDefinition,
        args: ValidatedToolArgs,
        handler: WrapToolExecuteHandler,
    ) -> Any:
        try:
            result = await handler(args)
        except Exception as exc:
            await self._reporter.message(
                f"error: {exc}", role="tool_result", tool_name=call.tool_name
            )
            raise
        data = to_jsonable_python(result, fallback=str)
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        await self._reporter.message(text, role="tool_result", tool_name=call.tool_name, data=data)
        return result

    async def on_model_request_error(
        self,
        ctx: RunContext[Any],
        *,
        request_context: ModelRequestContext,
        error: Exception,
    ) -> ModelResponse:
        if not isinstance(error, TRANSIENT) or self.failures + 1 >= MODEL_ATTEMPTS:
            raise error
        self.failures += 1
        wait = backoff(
            self.failures, error.retry_after if isinstance(error, ModelAPIError) else None
        )
        found = provider_error(error)
        assert found is not None
        typed = found.problem
        await self._reporter.message(
            f"{typed.title} ({typed.status}): {typed.detail}; retrying in {wait:g}s "
            f"(attempt {self.failures + 1} of {MODEL_ATTEMPTS})",
            role="system",
        )
        await asyncio.sleep(wait)
        raise RetryModelRequest()


async def run_model_agent(
    spec: AgentSpec,
    message: str,
    *,
    env: dict[str, str],
    resolver: Resolver,
    reporter: Reporter,
    usage_so_far: pb.Usage,
    permissions: Permissions,
) -> str | dict[str, Any]:
    """Run the model loop to its result; failures are raised as a Fault."""
    model = build_model(spec, env)
    toolsets: list[AbstractToolset[Any]] = [
        mcp_toolset(tool.mcp, resolver, permissions)
        for tool in spec.tools
        if isinstance(tool, McpTool)
    ]
    tools = builtin_tools([tool for tool in spec.tools if isinstance(tool, str)], reporter)
    settings: ModelSettings = {
        **spec.model_settings.model_dump(exclude_none=True),  # type: ignore[typeddict-item]
        "max_retries": 0,
    }
    progress = Progress(reporter=reporter)
    progress.usage.CopyFrom(usage_so_far)
    try:
        output_type: Any = StructuredDict(spec.output_schema) if spec.output_schema else str
    except UserError as exc:
        raise errors.configuration("Output schema unusable", exc.message) from None
    agent: Agent[None, Any] = Agent(
        model,
        output_type=output_type,
        instructions=spec.instructions or None,
        tools=tools,
        toolsets=toolsets,
        model_settings=settings,
        capabilities=[progress],
        retries={"output": OUTPUT_RETRIES},
    )
    if spec.output_schema is not None:
        validator = Draft202012Validator(spec.output_schema)

        @agent.output_validator
        def matches_schema(output: Any) -> Any:
            problems = [
                f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
                for e in validator.iter_errors(output)
            ]
            if problems:
                raise ModelRetry(
                    "the result does not match the output schema: " + "; ".join(problems)
                )
            return output

    result = await agent.run(message)
    output: str | dict[str, Any] = result.output
    return output


def typed_error(exc: Exception) -> Fault:
    """What a failed model run reports: a provider's typed error, or what went wrong."""
    if isinstance(exc, Fault):
        return exc
    if isinstance(exc, UserError):
        return errors.configuration("Agent misconfigured", exc.message)
    found = provider_error(exc)
    if found is not None:
        return found
    return errors.runtime("Agent failed", f"{type(exc).__name__}: {exc}")
