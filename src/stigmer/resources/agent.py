"""What an Agent definition may say (`kind: Agent`, its `spec`).

An agent runs a model (`provider:model`, or `test` for the offline deterministic model)
with instructions, settings, tools, an environment and an output schema, or it runs
Python code (`entrypoint`). Secrets are named, never written: `{secretRef: NAME}` is
resolved by the runner when the execution starts, so a definition (and everything
derived from it: versions, executions, workflow history) never holds a secret value.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from stigmer.contract.limits import MAX_DEADLINE

ENTRYPOINT = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
MODEL = re.compile(r"^(test|[a-z][\w-]*:.+)$")
PROVIDERS = ("openai", "anthropic", "ollama")
"""`openai` is any server speaking OpenAI chat completions (with `base_url`)."""
BUILTIN_TOOLS = ("write_todos",)
"""Tools the runtime itself provides, named in `tools` as plain strings."""
SECRET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SecretRef(BaseModel):
    """A value taken from the runner's secret source at execution time."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    secret_ref: str = Field(alias="secretRef", description="The secret's name.")

    @field_validator("secret_ref")
    @classmethod
    def _name_format(cls, value: str) -> str:
        if not SECRET_NAME.match(value):
            raise ValueError(f"secret name {value!r} must be letters, digits, '_', '.' or '-'")
        return value


EnvValue = str | SecretRef


def _check_names(values: dict[str, EnvValue], what: str) -> dict[str, EnvValue]:
    bad = [name for name in values if not ENV_NAME.match(name)]
    if bad:
        raise ValueError(f"{what} name(s) {bad} must be letters, digits and '_'")
    return values


class ModelSettingsSpec(BaseModel):
    """The model settings Stigmer passes on; every provider understands these."""

    model_config = ConfigDict(extra="forbid")

    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, gt=0)
    top_p: float | None = Field(default=None, ge=0, le=1)
    seed: int | None = None
    stop_sequences: list[str] | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    parallel_tool_calls: bool | None = None
    timeout: float | None = Field(
        default=None, gt=0, description="Seconds one model request may take before it is retried."
    )


class McpServer(BaseModel):
    """An MCP server the agent may use: a command over stdio, or a streamable HTTP URL.

    `allow` names the server's tools the agent is offered; any other tool stays hidden.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$")
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, EnvValue] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, EnvValue] = Field(default_factory=dict)
    allow: list[str] = Field(min_length=1)

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, EnvValue]) -> dict[str, EnvValue]:
        return _check_names(value, "variable")

    @field_validator("url")
    @classmethod
    def _url_format(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"url {value!r} must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _one_transport(self) -> McpServer:
        if (self.command is None) == (self.url is None):
            raise ValueError("give exactly one of `command` (stdio) or `url` (streamable HTTP)")
        if self.url is None and self.headers:
            raise ValueError("`headers` go with `url`, not with `command`")
        if self.command is None and (self.args or self.env or self.cwd):
            raise ValueError("`args`, `env` and `cwd` go with `command`, not with `url`")
        return self


class McpTool(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mcp: McpServer


ToolSpec = str | McpTool


class AgentSpec(BaseModel):
    """An agent runs either a model (`provider:model`, or `test` offline) or Python code."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    instructions: str = ""
    model: str | None = Field(
        default=None, description="provider:model, e.g. openai:gpt-4.1-mini; `test` is offline."
    )
    base_url: str | None = Field(
        default=None, description="The provider's API address, e.g. an OpenAI-compatible server."
    )
    entrypoint: str | None = Field(
        default=None, description="module:function, an `async def fn(message, ctx)`."
    )
    model_settings: ModelSettingsSpec = Field(default_factory=ModelSettingsSpec)
    tools: list[ToolSpec] = Field(default_factory=list)
    env: dict[str, EnvValue] = Field(
        default_factory=dict,
        description="Values or {secretRef: NAME}; a provider's key is read from its usual "
        "variable here (OPENAI_API_KEY, ANTHROPIC_API_KEY, OLLAMA_API_KEY).",
    )
    deadline: timedelta | None = Field(
        default=None, description="How long one execution may run (ISO 8601 or seconds)."
    )
    output_schema: dict[str, Any] | None = Field(
        default=None, description="A JSON schema (an object) the structured result must match."
    )

    # Format checks are per field, so an error names the field at fault, not the spec.
    @field_validator("deadline")
    @classmethod
    def _deadline_runs(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise ValueError(
                f"deadline must be a positive duration, got {value.total_seconds():g}s"
            )
        if value is not None and value > MAX_DEADLINE:
            raise ValueError(
                f"deadline may be at most {MAX_DEADLINE.days} days (executions end within "
                f"their caller's timeout), got {value}"
            )
        return value

    @field_validator("entrypoint")
    @classmethod
    def _entrypoint_format(cls, value: str | None) -> str | None:
        if value is not None and not ENTRYPOINT.match(value):
            raise ValueError(f"entrypoint {value!r} is not of the form module:function")
        return value

    @field_validator("model")
    @classmethod
    def _model_format(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not MODEL.match(value):
            raise ValueError(f"model {value!r} is not `provider:model` or `test`")
        provider = value.partition(":")[0]
        if value != "test" and provider not in PROVIDERS:
            raise ValueError(
                f"unknown provider {provider!r}; expected one of {PROVIDERS} "
                "(an OpenAI-compatible server is `openai:` with `base_url`)"
            )
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url_format(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"base_url {value!r} must start with http:// or https://")
        return value

    @field_validator("tools")
    @classmethod
    def _known_tools(cls, value: list[ToolSpec]) -> list[ToolSpec]:
        for tool in value:
            if isinstance(tool, str) and tool not in BUILTIN_TOOLS:
                raise ValueError(f"unknown built-in tool {tool!r}; expected one of {BUILTIN_TOOLS}")
        names = [tool.mcp.name for tool in value if isinstance(tool, McpTool)]
        if len(names) != len(set(names)):
            raise ValueError(f"MCP server names must differ: {names}")
        return value

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, EnvValue]) -> dict[str, EnvValue]:
        return _check_names(value, "variable")

    @field_validator("output_schema")
    @classmethod
    def _schema_shape(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return value
        try:
            Draft202012Validator.check_schema(value)
        except SchemaError as exc:
            raise ValueError(f"not a valid JSON schema: {exc.message}") from None
        if value.get("type") != "object":
            raise ValueError("must describe an object (`type: object`)")
        return value

    @model_validator(mode="after")
    def _one_way_to_run(self) -> AgentSpec:
        if (self.model is None) == (self.entrypoint is None):
            raise ValueError("give exactly one of `model` or `entrypoint`")
        if self.entrypoint is not None:
            given = [f for f in ("base_url", "tools", "output_schema") if getattr(self, f)]
            if given:
                raise ValueError(f"{given} apply to `model` agents, not to an `entrypoint`")
        if self.base_url is not None and self.model == "test":
            raise ValueError("`base_url` does not apply to the offline `test` model")
        return self

    @property
    def provider(self) -> str | None:
        """`test`, or one of PROVIDERS; None for an entrypoint agent."""
        return None if self.model is None else self.model.partition(":")[0]

    def secret_names(self) -> list[str]:
        """Every secret the agent refers to, wherever it is used."""
        values: list[EnvValue] = list(self.env.values())
        for tool in self.tools:
            if isinstance(tool, McpTool):
                values += [*tool.mcp.env.values(), *tool.mcp.headers.values()]
        return sorted({v.secret_ref for v in values if isinstance(v, SecretRef)})
