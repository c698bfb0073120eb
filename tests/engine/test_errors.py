"""The DSL error object and its Temporal form."""

from __future__ import annotations

from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    RetryState,
    TimeoutError,
    TimeoutType,
)

from stigmer.contract import problems as errors
from stigmer.contract.problems import Problem


def _activity_error(cause: BaseException) -> ActivityError:
    exc = ActivityError(
        "activity failed",
        scheduled_event_id=1,
        started_event_id=2,
        identity="w",
        activity_type="t",
        activity_id="1",
        retry_state=RetryState.NON_RETRYABLE_FAILURE,
    )
    exc.__cause__ = cause
    return exc


def test_standard_types_and_default_status() -> None:
    error = Problem.of(errors.TIMEOUT, "too slow", instance="/do/0/a")
    assert error.type == "https://serverlessworkflow.io/spec/1.0.0/errors/timeout"
    assert error.status == 408
    assert error.to_dict() == {
        "type": errors.TIMEOUT,
        "status": 408,
        "detail": "too slow",
        "instance": "/do/0/a",
    }
    assert Problem.of(errors.AUTHORIZATION, "no").status == 403


def test_round_trip_through_application_error() -> None:
    error = Problem(errors.COMMUNICATION, 503, "Service Unavailable", "down", "/do/1/call")
    app = error.application_error()
    assert app.type == errors.COMMUNICATION
    assert app.non_retryable
    assert errors.from_application_error(app) == error
    assert Problem.from_dict(error.to_dict()) == error


def test_foreign_application_error_is_runtime() -> None:
    error = errors.from_application_error(ApplicationError("boom", type="ValueError"))
    assert error.type == errors.RUNTIME
    assert error.status == 500
    assert error.detail == "boom"


def test_from_failure_finds_the_dsl_error_in_the_cause_chain() -> None:
    inner = Problem.of(errors.VALIDATION, "bad input")
    failure = _activity_error(inner.application_error(non_retryable=False))
    found = errors.from_failure(failure, instance="/do/0/ask")
    assert found.type == errors.VALIDATION
    assert found.instance == "/do/0/ask"


def test_from_failure_timeout_and_cancellation() -> None:
    timeout = _activity_error(
        TimeoutError("t", type=TimeoutType.HEARTBEAT, last_heartbeat_details=[])
    )
    assert errors.from_failure(timeout, instance="/do/0/a").type == errors.TIMEOUT
    assert errors.is_cancellation(_activity_error(CancelledError("gone")))
    assert not errors.is_cancellation(timeout)


def test_standard_types_match_in_either_spelling() -> None:
    spelled = "https://serverlessworkflow.io/dsl/errors/types/communication"
    assert errors.canonical_type(spelled) == errors.COMMUNICATION
    assert errors.canonical_type(errors.TIMEOUT) == errors.TIMEOUT
    assert (
        errors.canonical_type("https://example.com/errors/custom")
        == "https://example.com/errors/custom"
    )
    assert errors.canonical_type("https://serverlessworkflow.io/errors/types/compliance") == (
        "https://serverlessworkflow.io/errors/types/compliance"
    )
