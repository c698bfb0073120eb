"""Agent definitions: what is accepted, and errors that name the field at fault."""

from __future__ import annotations

from typing import Any

import pytest

from stigmer.agents.secrets import MissingSecret, Resolver
from stigmer.redaction import Redactor
from stigmer.resources.agent import AgentSpec, SecretRef
from stigmer.resources.definitions import agent_spec_errors
from stigmer.secrets import SecretStore

FULL: dict[str, Any] = {
    "instructions": "Summarize.",
    "model": "openai:my-model",
    "base_url": "http://127.0.0.1:8000/v1",
    "model_settings": {"temperature": 0.2, "max_tokens": 800},
    "tools": [
        "write_todos",
        {"mcp": {"name": "files", "command": "files-mcp", "args": ["--ro"], "allow": ["read"]}},
        {
            "mcp": {
                "name": "search",
                "url": "http://127.0.0.1:9000/mcp",
                "headers": {"Authorization": {"secretRef": "search-token"}},
                "allow": ["search"],
            }
        },
    ],
    "env": {"OPENAI_API_KEY": {"secretRef": "openai-key"}, "REGION": "eu"},
    "deadline": "PT30M",
    "output_schema": {"type": "object", "properties": {"summary": {"type": "string"}}},
}


def test_a_full_model_agent_is_accepted() -> None:
    spec = AgentSpec.model_validate(FULL)
    assert spec.provider == "openai"
    assert spec.secret_names() == ["openai-key", "search-token"]
    assert spec.env["OPENAI_API_KEY"] == SecretRef.model_validate({"secretRef": "openai-key"})


@pytest.mark.parametrize(
    ("change", "where", "says"),
    [
        ({"model": "mystery:x"}, ("model",), "unknown provider 'mystery'"),
        ({"base_url": "ftp://x"}, ("base_url",), "must start with http"),
        ({"model_settings": {"temprature": 1}}, ("model_settings", "temprature"), "Extra inputs"),
        ({"model_settings": {"temperature": 5}}, ("model_settings", "temperature"), "less than"),
        ({"tools": ["browse"]}, ("tools",), "unknown built-in tool 'browse'"),
        (
            {"tools": [{"mcp": {"name": "x", "command": "c", "allow": []}}]},
            ("tools", 0, "McpTool", "mcp", "allow"),
            "at least 1",
        ),
        (
            {"tools": [{"mcp": {"name": "x", "command": "c", "url": "http://h", "allow": ["a"]}}]},
            ("tools", 0, "McpTool", "mcp"),
            "exactly one of `command`",
        ),
        (
            {"env": {"KEY": {"secretRef": "has space"}}},
            ("env", "KEY", "SecretRef", "secretRef"),
            "secret name",
        ),
        ({"output_schema": {"type": "array"}}, ("output_schema",), "`type: object`"),
        ({"output_schema": {"type": 3}}, ("output_schema",), "not a valid JSON schema"),
    ],
)
def test_errors_name_the_field(change: dict[str, Any], where: tuple[Any, ...], says: str) -> None:
    problems = agent_spec_errors({**FULL, **change})
    assert any(path[: len(where)] == where and says in message for path, message in problems), (
        problems
    )


def test_an_entrypoint_agent_takes_no_model_options() -> None:
    problems = agent_spec_errors({"entrypoint": "pkg.mod:fn", "tools": ["write_todos"]})
    assert problems and "apply to `model` agents" in problems[0][1]


def test_secrets_resolve_from_the_environment_and_are_redacted() -> None:
    redactor = Redactor()
    resolver = Resolver(SecretStore(environ={"STIGMER_SECRET_OPENAI_KEY": "sk-live-123"}), redactor)
    spec = AgentSpec.model_validate(FULL)
    assert resolver.mapping({"A": spec.env["OPENAI_API_KEY"], "B": "plain"}) == {
        "A": "sk-live-123",
        "B": "plain",
    }
    assert redactor.text("key sk-live-123!") == "key ***!"
    assert redactor.data({"k": ["sk-live-123"], "sk-live-123": 1}) == {
        "k": ["***"],
        "***": 1,
    }
    with pytest.raises(MissingSecret, match="STIGMER_SECRET_SEARCH_TOKEN"):
        resolver.check(spec.secret_names())
