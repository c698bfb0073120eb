"""One settings object for every process of the platform.

Values come, lowest to highest precedence, from defaults, ``STIGMER_*`` environment
variables, and command-line flags (the CLI passes flags as keyword overrides).
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from stigmer import user_token
from stigmer.contract.names import QUEUE_KINDS as QUEUE_KINDS  # where it always was
from stigmer.errors import PlatformError


def task_queue(kind: str, prefix: str = "") -> str:
    """`stigmer-engine`, `stigmer-agents`, `stigmer-runner`, each after an optional prefix."""
    if kind not in QUEUE_KINDS:
        raise ValueError(f"unknown queue {kind!r}; expected one of {', '.join(QUEUE_KINDS)}")
    return f"{prefix}stigmer-{kind}"


def sibling_queue(queue: str, kind: str) -> str:
    """The queue of another kind of the same platform as `queue` (same prefix).

    Workflow code cannot read settings, but knows its own task queue: the platform's
    other queues are found from it, so platforms with different prefixes can share one
    Temporal namespace without taking each other's work.
    """
    prefix = queue[: queue.rindex("stigmer-")] if "stigmer-" in queue else ""
    return task_queue(kind, prefix)  # a queue the platform did not name (a replay): no prefix


class Settings(BaseSettings):
    """Where things live and how they connect."""

    model_config = SettingsConfigDict(env_prefix="STIGMER_", extra="ignore")

    data_dir: Path = Field(default=Path("~/.stigmer"), description="State of the local platform.")

    # API
    address: str = Field(
        default="127.0.0.1:7234",
        description="Where clients find the API: host:port, or several separated by commas.",
    )
    host: str = Field(default="127.0.0.1", description="Interface the API binds to.")
    port: int = Field(default=7234, description="API port.")
    api_token: SecretStr | None = Field(
        default=None,
        description="The user token clients must send; required off loopback (empty: none; "
        "at least 16 characters).",
    )
    api_token_file: Path | None = Field(
        default=None,
        description="A file holding the user token, instead of STIGMER_API_TOKEN.",
    )
    worker_token: SecretStr | None = Field(
        default=None,
        description="The worker credential; default the file `stigmer server` keeps.",
    )
    worker_token_file: Path | None = Field(
        default=None, description="Where the worker credential is; default DATA_DIR/worker-token."
    )
    payload_keys: SecretStr | None = Field(
        default=None,
        description="The keys that seal what the platform puts in Temporal, as the keys "
        "file holds them; default the file `stigmer server` keeps.",
    )
    payload_keys_file: Path | None = Field(
        default=None, description="Where the payload keys are; default DATA_DIR/payload-keys."
    )
    tls_cert: Path | None = Field(default=None, description="PEM certificate for the API.")
    tls_key: Path | None = Field(default=None, description="PEM private key for the API.")
    tls_ca: Path | None = Field(default=None, description="CA bundle clients trust for the API.")
    tls: bool = Field(
        default=False, description="Clients reach the API over TLS with the system's CAs."
    )
    allow_plaintext: bool = Field(
        default=False,
        description="Serve (or send a token) without TLS beyond loopback, on a trusted network.",
    )

    # Store
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; default SQLite in the data dir."
    )

    # Temporal
    temporal_address: str | None = Field(
        default=None, description="An existing Temporal cluster; default the embedded server."
    )
    temporal_namespace: str = "default"
    temporal_tls: bool = False
    temporal_api_key: SecretStr | None = None
    queue_prefix: str = Field(
        default="", description="Prefix of the task queue names, to share a namespace."
    )
    temporal_port: int = 7233
    temporal_ui_port: int = 8233

    # Web console
    console_port: int = Field(default=8234, description="Web console port; 0 turns it off.")
    temporal_ui_url: str | None = Field(
        default=None,
        description="Temporal UI the console links runs to; default the embedded server's.",
    )

    # Observability
    metrics_port: int = Field(default=9464, description="Prometheus endpoint; 0 turns it off.")
    metrics_host: str = Field(
        default="127.0.0.1", description="Interface the metrics endpoint binds to."
    )
    log_level: str = "INFO"
    log_format: Literal["console", "json"] = "console"
    stuck_after: timedelta = Field(
        default=timedelta(hours=24),
        description="An execution open this long is reported stuck (ISO 8601 or seconds).",
    )
    collect_interval: timedelta = Field(
        default=timedelta(seconds=15),
        description="How often the API recomputes the gauges of stored state and stuck calls.",
    )
    reconcile_interval: timedelta = Field(
        default=timedelta(seconds=15),
        description="How often the API checks quiet open executions against their Temporal runs.",
    )
    reconcile_batch: int = Field(
        default=100,
        gt=0,
        description="Open executions the reconciler asks Temporal about per sweep, walking "
        "through all of them in turn (10,000 open, 15 s apart: each about every 25 minutes); "
        "a run Temporal closed is found at the next sweep through its visibility.",
    )
    reconcile_lookback: timedelta = Field(
        default=timedelta(hours=1),
        description="How far back an API replica that starts leading looks for runs Temporal "
        "closed; those closed earlier are left to the walk.",
    )
    otlp_endpoint: str | None = Field(
        default=None, description="OTLP/gRPC collector for traces; unset: no tracing at all."
    )

    # Handshake and execution limits
    result_size_budget: int = Field(
        default=256 * 1024,
        description="Results larger than this (bytes of JSON) are passed by reference.",
    )
    default_deadline: timedelta = Field(
        default=timedelta(hours=1),
        description="An execution's deadline when neither the task nor the agent sets one.",
    )
    engine_max_activities: int = Field(
        default=100,
        description="Engine worker activity slots; a pending agent call holds none of them.",
    )
    runner_max_activities: int = Field(
        default=500, description="Agents one runner process runs at once (mostly waiting on I/O)."
    )
    engine_history_budget: int = Field(
        default=10_000,
        gt=0,
        description="History events after which a workflow run continues as new (Temporal "
        "refuses one past 51,200).",
    )
    workflow_pollers: int = Field(
        default=10,
        ge=2,
        description="Workflow task polls each worker keeps open: half for new and uncached "
        "runs, half for its cached runs (its sticky queue). A burst of new runs starts at "
        "about one per poll round trip per poll on the first half.",
    )
    workflow_cache: int = Field(
        default=1000,
        gt=0,
        description="Runs each worker keeps in memory between workflow tasks; one it "
        "dropped replays its history on its next task. Size it to the runs a worker holds "
        "open at once (docs/deploy.md, sizing).",
    )
    runner_heartbeat_seconds: float = Field(
        default=10.0,
        gt=0,
        description="An agent runner silent this long is taken for dead and its run retried; "
        "a running agent heartbeats Temporal every 80 % of it, so many agents at once want "
        "it longer.",
    )

    # Temporal Worker Versioning (rolling out workflow code changes)
    worker_deployment: str | None = Field(
        default=None,
        description="Temporal Worker Deployment the workers belong to; with a build id, "
        "they run as that deployment version.",
    )
    worker_build_id: str | None = Field(
        default=None, description="This release's build id within the worker deployment."
    )
    worker_versioning: Literal["pinned", "auto-upgrade"] = Field(
        default="pinned",
        description="Workflows stay on the version they started on (pinned), or move to "
        "the current version at their next task (auto-upgrade).",
    )

    # What definitions may make this worker do (stigmer.permissions, docs/security.md)
    allow_processes: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Commands definitions may start here (MCP stdio servers, `run: shell` "
        "(/bin/sh), `run: script` (its interpreter)), comma-separated; `*` allows any; "
        "empty: none.",
    )
    allow_files: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="Directories whose files definitions may read here (`file://` "
        "documents and scripts), comma-separated; empty: none.",
    )

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("allow_processes", "allow_files", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """A variable's value is a comma-separated list; blank entries are none."""
        if isinstance(value, str):
            return [entry.strip() for entry in value.split(",") if entry.strip()]
        return value

    @field_validator("allow_files")
    @classmethod
    def _expand_all(cls, value: list[Path]) -> list[Path]:
        return [path.expanduser() for path in value]

    @field_validator("worker_token", "payload_keys")
    @classmethod
    def _empty_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        """An empty (or blank) token is no token: it must never pass an access check."""
        return value if value is not None and value.get_secret_value().strip() else None

    @model_validator(mode="after")
    def _user_token(self) -> Settings:
        """The user token by the rule every process shares (`stigmer.user_token`): read
        from its file if one is named, none if blank, refused if short."""
        given = self.api_token.get_secret_value() if self.api_token is not None else None
        token = user_token.resolve(given, self.api_token_file)
        self.api_token = SecretStr(token) if token is not None else None
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'stigmer.db'}"

    @property
    def embedded_temporal(self) -> bool:
        return self.temporal_address is None

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    @property
    def api_bind(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def binds_loopback_only(self) -> bool:
        return is_loopback(self.host)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicitly given flags on top; PlatformError
    naming each setting that does not fit (its environment variable, the value, why)."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise PlatformError(
            "invalid settings:\n"
            + "\n".join(_describe(error, given) for error in exc.errors(include_url=False))
        ) from None


def _describe(error: ErrorDetails, given: dict[str, object]) -> str:
    name = ".".join(str(part) for part in error["loc"])
    where = "given" if name in given else f"STIGMER_{name.upper()}"
    return f"  {name} ({where}, value {error.get('input')!r}): {error['msg']}"
