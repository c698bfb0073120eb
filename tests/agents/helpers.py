"""Agent definitions the agent tests share."""

from __future__ import annotations

from typing import Any

from tests.agents.standins import Anthropic, Dialect, OpenAI, StandIn

KEY = "sk-standin-7f3a9c2e1b"
SECRET = "standin-key"
MODEL = {OpenAI: "openai:standin-model", Anthropic: "anthropic:claude-standin"}
KEY_VARIABLE = {OpenAI: "OPENAI_API_KEY", Anthropic: "ANTHROPIC_API_KEY"}


def provider_agent(dialect: Dialect, standin: StandIn, **extra: Any) -> dict[str, Any]:
    """An agent on the stand-in, its key a secret (`STIGMER_SECRET_STANDIN_KEY`)."""
    return {
        "instructions": "Answer briefly.",
        "model": MODEL[dialect],
        # The OpenAI client's base URL ends in /v1; Anthropic's client adds /v1 itself.
        "base_url": standin.url if dialect is OpenAI else standin.url.removesuffix("/v1"),
        "env": {KEY_VARIABLE[dialect]: {"secretRef": SECRET}},
        "model_settings": {"max_tokens": 1024, "temperature": 0},
        **extra,
    }


def sent_key(dialect: Dialect, headers: dict[str, str]) -> str:
    if dialect is OpenAI:
        return headers["authorization"].removeprefix("Bearer ")
    return headers.get("x-api-key") or headers["authorization"].removeprefix("Bearer ")
