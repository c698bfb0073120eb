"""The model behind an agent: a provider's, or the offline deterministic one (`model: test`).

`openai:` speaks OpenAI chat completions, so it also serves every OpenAI-compatible
server (vLLM, llama.cpp, LM Studio, ...) through `base_url`; `anthropic:` speaks the
Messages API; `ollama:` is Ollama's OpenAI-compatible endpoint. Credentials come only
from the agent's resolved `env` (never from the runner's own environment), so which key
an agent uses is written in its definition.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any

from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelContextWindowExceededError,
    ModelHTTPError,
    ModelQuotaExceededError,
    ModelRateLimitError,
    ModelRequestTimeout,
    ModelServerError,
    ModelTimeoutError,
    ModelUnavailableError,
    UnexpectedModelBehavior,
    UsageLimitExceeded,
)
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponsePart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import Model
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.ollama import OllamaModel
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.models.test import TestModel
from pydantic_ai.providers.anthropic import AnthropicProvider
from pydantic_ai.providers.ollama import OllamaProvider
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.tools import ToolDefinition

from stigmer.agents import errors
from stigmer.contract import problems
from stigmer.contract.problems import Fault
from stigmer.resources.agent import AgentSpec

API_KEYS = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "ollama": "OLLAMA_API_KEY",
}
OLLAMA_URL = "http://127.0.0.1:11434/v1"
NO_KEY = "unused"
"""The OpenAI client insists on a key; local OpenAI-compatible servers ignore it."""

TRANSIENT = (
    ModelRateLimitError,
    ModelUnavailableError,
    ModelServerError,
    ModelConnectionError,
    ModelRequestTimeout,
)
"""Provider errors that may pass if the same request is sent again after a wait."""


def build_model(spec: AgentSpec, env: Mapping[str, str]) -> Model:
    """The model of a model agent; `env` holds its resolved values and secrets."""
    assert spec.model is not None
    if spec.model == "test":
        return offline_model()
    provider, _, name = spec.model.partition(":")
    key = env.get(API_KEYS[provider])
    if provider == "openai":
        if key is None and spec.base_url is None:
            raise _missing_key(spec, provider)
        return OpenAIChatModel(
            name, provider=OpenAIProvider(base_url=spec.base_url, api_key=key or NO_KEY)
        )
    if provider == "anthropic":
        if key is None:
            raise _missing_key(spec, provider)
        return AnthropicModel(name, provider=AnthropicProvider(api_key=key, base_url=spec.base_url))
    return OllamaModel(
        name, provider=OllamaProvider(base_url=spec.base_url or OLLAMA_URL, api_key=key or NO_KEY)
    )


def _missing_key(spec: AgentSpec, provider: str) -> Fault:
    variable = API_KEYS[provider]
    return errors.failure(
        problems.AUTHENTICATION,
        401,
        "Provider credentials missing",
        f"model {spec.model!r} needs {variable} in the agent's env, e.g. "
        f"`env: {{{variable}: {{secretRef: NAME}}}}`",
    )


def provider_error(exc: BaseException) -> Fault | None:
    """The typed error of a provider failure, carrying the provider's own message."""
    if isinstance(exc, UsageLimitExceeded):
        return errors.runtime("Usage limit exceeded", exc.message)
    if isinstance(exc, UnexpectedModelBehavior):
        return errors.runtime("Unexpected model behavior", exc.message)
    if not isinstance(exc, ModelAPIError):
        return None
    status = exc.status_code if isinstance(exc, ModelHTTPError) else None
    detail = f"{exc.model_name}: {exc.message}"
    if isinstance(exc, ModelAuthenticationError):
        if status == 403:
            return errors.failure(problems.AUTHORIZATION, 403, "Provider refused", detail)
        return errors.failure(
            problems.AUTHENTICATION, 401, "Provider authentication failed", detail
        )
    if isinstance(exc, ModelTimeoutError | ModelRequestTimeout):
        return errors.timeout("Provider timed out", detail)
    if isinstance(exc, ModelRateLimitError):
        return errors.failure(problems.COMMUNICATION, 429, "Provider rate limit", detail)
    if isinstance(exc, ModelQuotaExceededError):
        return errors.failure(
            problems.COMMUNICATION, status or 429, "Provider quota exceeded", detail
        )
    if isinstance(exc, ModelContextWindowExceededError):
        return errors.failure(
            problems.COMMUNICATION, status or 400, "Model context length exceeded", detail
        )
    return errors.failure(problems.COMMUNICATION, status or 502, "Provider error", detail)


# ------------------------------------------------------------------ offline model


def offline_model() -> Model:
    """The offline deterministic model: no network, the same answer every time.

    It behaves like a small agent following a fixed plan, so a run shows the shape of a
    real one: it writes its todos (with `write_todos`), calls each other tool it is
    offered once (arguments made from the tool's schema), marks progress, and answers.
    A message that is a JSON object directs it, as the scripted entrypoint agent is
    directed: `todos` (list of strings), `steps` (progress messages), `sleep` (seconds,
    spread over the run), `output` (final text), `structured` (the structured result),
    `tool_args` ({tool: arguments}).
    """
    return FunctionModel(_offline_turn, model_name="stigmer-offline")


async def _offline_turn(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    prompt = _first_prompt(messages)
    script = _script(prompt)
    plan = _plan(prompt, script, info)
    turn = min(sum(isinstance(m, ModelResponse) for m in messages), len(plan) - 1)
    sleep = float(script.get("sleep", 0))
    if sleep > 0:
        await asyncio.sleep(sleep / len(plan))
    return ModelResponse(parts=plan[turn](messages))


Turn = Callable[[list[ModelMessage]], list[ModelResponsePart]]
"""One model turn: its parts, given the conversation so far."""


def _plan(prompt: str, script: dict[str, Any], info: AgentInfo) -> list[Turn]:
    tools = {tool.name: tool for tool in info.function_tools}
    others = [tool for name, tool in tools.items() if name != "write_todos"]
    todos = [str(item) for item in script.get("todos", [])] or [
        "read the request",
        *(f"use {tool.name}" for tool in others),
        "write the answer",
    ]
    steps = max(int(script.get("steps", 0)), 0)
    plan: list[Turn] = []

    def todo_call(done: int) -> ToolCallPart:
        items = [
            {
                "content": item,
                "status": "completed" if i < done else "in_progress" if i == done else "pending",
            }
            for i, item in enumerate(todos)
        ]
        return ToolCallPart("write_todos", {"todos": items})

    if "write_todos" in tools:
        plan.append(lambda _m: [TextPart("Planning the work."), todo_call(0)])
    tool_args = script.get("tool_args", {})
    for tool in others:
        args = tool_args.get(tool.name) if isinstance(tool_args, dict) else None

        def use(
            _m: list[ModelMessage], tool: ToolDefinition = tool, args: Any = args
        ) -> list[ModelResponsePart]:
            given = args if args is not None else _arguments(tool)
            return [TextPart(f"Calling {tool.name}."), ToolCallPart(tool.name, given)]

        plan.append(use)
    for step in range(steps):
        done = min(len(todos) - 1, (step + 1) * len(todos) // (steps + 1))

        def progress(
            _m: list[ModelMessage], step: int = step, done: int = done
        ) -> list[ModelResponsePart]:
            parts: list[ModelResponsePart] = [TextPart(f"step {step + 1} of {steps}")]
            if "write_todos" in tools:
                parts.append(todo_call(done))
            return parts

        plan.append(progress)
    if "write_todos" in tools:
        plan.append(lambda _m: [todo_call(len(todos))])
    plan.append(lambda m: _answer(prompt, script, info, m))
    return plan


def _answer(
    prompt: str, script: dict[str, Any], info: AgentInfo, messages: list[ModelMessage]
) -> list[ModelResponsePart]:
    if info.output_tools:
        tool = info.output_tools[0]
        structured = script.get("structured")
        return [
            ToolCallPart(
                tool.name, structured if isinstance(structured, dict) else _arguments(tool)
            )
        ]
    if "output" in script:
        return [TextPart(str(script["output"]))]
    results = [
        f"{part.tool_name}: {part.model_response_str()}"
        for message in messages
        if isinstance(message, ModelRequest)
        for part in message.parts
        if isinstance(part, ToolReturnPart) and part.tool_name != "write_todos"
    ]
    return [TextPart("\n".join([f"echo: {prompt}", *results]))]


def _arguments(tool: ToolDefinition) -> Any:
    return TestModel().gen_tool_args(tool)


def _first_prompt(messages: list[ModelMessage]) -> str:
    for message in messages:
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    return part.content
    return ""


def _script(prompt: str) -> dict[str, Any]:
    try:
        found = json.loads(prompt)
    except json.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}
