"""The DSL error model: RFC 7807 problem details with the spec's standard error types.

A fault travels as a `DslFault` exception inside the interpreter and as a Temporal
`ApplicationError` across activity and workflow boundaries: the error type URI becomes the
application error's `type` and the problem object its first detail, so the error a called
agent or nested workflow raised arrives intact where a `try` task can match on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from temporalio.exceptions import ApplicationError, CancelledError, FailureError
from temporalio.exceptions import TimeoutError as TemporalTimeoutError

_BASE = "https://serverlessworkflow.io/spec/1.0.0/errors/"

CONFIGURATION = _BASE + "configuration"
VALIDATION = _BASE + "validation"
EXPRESSION = _BASE + "expression"
AUTHENTICATION = _BASE + "authentication"
AUTHORIZATION = _BASE + "authorization"
TIMEOUT = _BASE + "timeout"
COMMUNICATION = _BASE + "communication"
RUNTIME = _BASE + "runtime"

DEFAULT_STATUS: dict[str, int] = {
    CONFIGURATION: 400,
    VALIDATION: 400,
    EXPRESSION: 400,
    AUTHENTICATION: 401,
    AUTHORIZATION: 403,
    TIMEOUT: 408,
    COMMUNICATION: 500,
    RUNTIME: 500,
}
"""The spec's default status per standard type; a more precise status may always be used."""


_STANDARD_SPELLING = re.compile(
    r"^https?://serverlessworkflow\.io(?:\.io)?/(?:spec/[^/]+/errors|(?:dsl/)?errors/types)/"
    r"(?P<name>[a-z]+)$"
)


def canonical_type(error_type: str) -> str:
    """One name for each standard error type, however a document spells its URI.

    The spec's own texts use `.../spec/1.0.0/errors/communication` in the error table but
    `.../dsl/errors/types/communication` in examples and the conformance kit; a `catch`
    written either way must match the error the engine raises.
    """
    match = _STANDARD_SPELLING.match(error_type)
    if match and _BASE + match["name"] in DEFAULT_STATUS:
        return _BASE + match["name"]
    return error_type


@dataclass(frozen=True)
class DslError:
    """One DSL error object (`type`, `status`, `title`, `detail`, `instance`)."""

    type: str
    status: int
    title: str | None = None
    detail: str | None = None
    instance: str | None = None
    """JSON pointer of the component that raised the error, e.g. `/do/0/greet`."""

    @classmethod
    def of(
        cls,
        type: str,
        detail: str,
        *,
        instance: str | None = None,
        title: str | None = None,
        status: int | None = None,
    ) -> DslError:
        """A standard-typed error whose status defaults to the spec's one for the type."""
        return cls(
            type=type,
            status=status if status is not None else DEFAULT_STATUS.get(type, 500),
            title=title,
            detail=detail,
            instance=instance,
        )

    def to_dict(self) -> dict[str, Any]:
        """The error as the DSL writes it: unset optional fields are left out."""
        out: dict[str, Any] = {"type": self.type, "status": self.status}
        for key in ("title", "detail", "instance"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DslError:
        """Read an error object; a missing type or status falls back to a runtime error."""
        type = str(data.get("type") or RUNTIME)
        status = data.get("status")
        return cls(
            type=type,
            status=status if isinstance(status, int) else DEFAULT_STATUS.get(type, 500),
            title=_optional_str(data.get("title")),
            detail=_optional_str(data.get("detail")),
            instance=_optional_str(data.get("instance")),
        )

    def with_instance(self, instance: str) -> DslError:
        """The same error, naming `instance` as its origin unless it already names one."""
        if self.instance:
            return self
        return DslError(self.type, self.status, self.title, self.detail, instance)

    def summary(self) -> str:
        """One line for logs and exception messages."""
        text = self.detail or self.title or self.type.rsplit("/", 1)[-1]
        where = f" at {self.instance}" if self.instance else ""
        return f"{text}{where} ({self.type}, status {self.status})"


class DslFault(Exception):
    """Raised inside the interpreter when a task or the workflow faults."""

    def __init__(self, error: DslError) -> None:
        super().__init__(error.summary())
        self.error = error


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def to_application_error(error: DslError, *, non_retryable: bool = False) -> ApplicationError:
    """The Temporal form of `error`: type is the error type URI, details[0] the object."""
    return ApplicationError(
        error.summary(),
        error.to_dict(),
        type=error.type,
        non_retryable=non_retryable,
    )


def from_application_error(exc: ApplicationError) -> DslError:
    """Read back a `to_application_error` result; other application errors become runtime."""
    if exc.details and isinstance(exc.details[0], dict) and "type" in exc.details[0]:
        return DslError.from_dict(exc.details[0])
    return DslError.of(RUNTIME, exc.message or str(exc), title=exc.type or None)


def from_failure(exc: FailureError, *, instance: str) -> DslError:
    """The DSL error for a Temporal failure (e.g. an activity error) raised by a task.

    The chain of causes is searched for the application error that carries a DSL error;
    a Temporal timeout becomes a DSL timeout; anything else is a runtime error.
    """
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ApplicationError):
            return from_application_error(cause).with_instance(instance)
        if isinstance(cause, TemporalTimeoutError):
            return DslError.of(TIMEOUT, str(cause) or "timed out", instance=instance)
        cause = cause.__cause__
    return DslError.of(RUNTIME, str(exc), instance=instance)


def is_cancellation(exc: BaseException) -> bool:
    """Whether a failure is (caused by) a cancellation, which must propagate as such."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, CancelledError):
            return True
        cause = cause.__cause__
    return False
