"""The one error type: an RFC 7807 problem with the DSL's standard error types.

A problem travels as a `Fault` exception inside a process and as a Temporal
`ApplicationError` across activity and workflow boundaries: the error type URI becomes the
application error's `type` and the problem object its first detail, so the error a called
agent or nested workflow raised arrives intact where a `try` task can match on it, and the
API records the same object on the execution.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
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

_OWN = "https://stigmer.dev/errors/"
CANCELLED = _OWN + "cancelled"
"""The execution was cancelled: through the API, by its caller, or because its caller is gone."""
OPERATOR = _OWN + "operator"
"""An operator failed the execution by hand."""
UNAVAILABLE = _OWN + "unavailable"
"""The platform could not start the execution."""
FORGERY = _OWN + "forgery"
"""An outcome the platform did not make (a completion forged through Temporal) was refused."""
PERMISSION = _OWN + "permission"
"""The worker's operator does not allow what the definition asked for: starting a process,
reading a file (see `stigmer.permissions`). Retrying cannot change the answer."""
TOO_LARGE = _OWN + "too-large"
"""Something is over a size limit (an API message, a Temporal payload, a status): the detail
names its size and the limit. Refused at once: retrying cannot make it smaller."""

DEFAULT_STATUS: dict[str, int] = {
    CONFIGURATION: 400,
    VALIDATION: 400,
    EXPRESSION: 400,
    AUTHENTICATION: 401,
    AUTHORIZATION: 403,
    TIMEOUT: 408,
    COMMUNICATION: 500,
    RUNTIME: 500,
    CANCELLED: 499,
    OPERATOR: 500,
    UNAVAILABLE: 503,
    FORGERY: 502,
    PERMISSION: 403,
    TOO_LARGE: 413,
}
"""The default status per type; a more precise status may always be used."""

STATUS_RANGE = range(100, 600)
"""Statuses a problem may carry: HTTP's, which is what RFC 7807 and the DSL mean."""

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
class Problem:
    """One error object (`type`, `status`, `title`, `detail`, `instance`)."""

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
    ) -> Problem:
        """A problem of `type` whose status defaults to the type's own."""
        return cls(
            type=type,
            status=status if status is not None else DEFAULT_STATUS.get(type, 500),
            title=title,
            detail=detail,
            instance=instance,
        )

    def to_dict(self) -> dict[str, Any]:
        """The object as the DSL writes it: unset optional fields are left out."""
        out: dict[str, Any] = {"type": self.type, "status": self.status}
        for key in ("title", "detail", "instance"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        """Read an error object; a missing type or a status out of range falls back."""
        type = str(data.get("type") or RUNTIME)
        status = data.get("status")
        return cls(
            type=type,
            status=status
            if isinstance(status, int) and status in STATUS_RANGE
            else DEFAULT_STATUS.get(type, 500),
            title=_optional_str(data.get("title")),
            detail=_optional_str(data.get("detail")),
            instance=_optional_str(data.get("instance")),
        )

    def with_instance(self, instance: str) -> Problem:
        """The same problem, naming `instance` as its origin unless it already names one."""
        return self if self.instance else replace(self, instance=instance)

    def summary(self) -> str:
        """One line for logs and exception messages."""
        text = self.detail or self.title or self.type.rsplit("/", 1)[-1]
        where = f" at {self.instance}" if self.instance else ""
        return f"{text}{where} ({self.type}, status {self.status})"

    def application_error(self, *, non_retryable: bool = True) -> ApplicationError:
        """The Temporal form: type is the error type URI, details[0] the object."""
        return ApplicationError(
            self.summary(), self.to_dict(), type=self.type, non_retryable=non_retryable
        )


class Fault(Exception):
    """Raised with a problem: a task or workflow faulting, an agent failing."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.summary())
        self.problem = problem


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def too_large(detail: str) -> Problem:
    """Something over a size limit; `detail` names its size and the limit (as
    `limits.over_limit` words it)."""
    return Problem.of(TOO_LARGE, detail, title="Too large")


def from_application_error(exc: ApplicationError) -> Problem:
    """Read back `Problem.application_error`; other application errors become runtime."""
    if exc.details and isinstance(exc.details[0], dict) and "type" in exc.details[0]:
        return Problem.from_dict(exc.details[0])
    return Problem.of(RUNTIME, exc.message or str(exc), title=exc.type or None)


def from_failure(exc: BaseException, *, instance: str | None = None) -> Problem:
    """The problem a Temporal failure (an activity's, a child's) carries.

    The chain of causes is searched for the application error that carries a problem; a
    Temporal timeout is a timeout, a cancellation is a cancellation, anything else a
    runtime error naming what happened.
    """
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ApplicationError):
            found = from_application_error(cause)
            return found.with_instance(instance) if instance else found
        if isinstance(cause, TemporalTimeoutError):
            return Problem.of(TIMEOUT, str(cause) or "timed out", instance=instance)
        if isinstance(cause, CancelledError):
            return Problem.of(
                CANCELLED, str(cause) or "cancelled", title="Cancelled", instance=instance
            )
        cause = cause.__cause__
    message = exc.message if isinstance(exc, FailureError) else str(exc)
    return Problem.of(RUNTIME, message or type(exc).__name__, instance=instance)


def is_cancellation(exc: BaseException) -> bool:
    """Whether a failure is (caused by) a cancellation, which must propagate as such."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, CancelledError):
            return True
        cause = cause.__cause__
    return False
