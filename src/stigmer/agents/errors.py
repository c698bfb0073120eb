"""Agent failures as problems (type, status, title, detail) the caller can catch by type.

Every failure leaves the runner as a non-retryable application error: transient provider
errors (rate limits, timeouts, an unavailable provider) were already retried inside the
run with a bounded backoff, and retrying the activity would start the agent over and
repeat its work.
"""

from __future__ import annotations

from dataclasses import replace

from temporalio.exceptions import ApplicationError

from stigmer.contract import problems
from stigmer.contract.problems import Fault, Problem
from stigmer.redaction import Redactor


def failure(type: str, status: int, title: str, detail: str) -> Fault:
    """The agent failed with this problem."""
    return Fault(Problem(type, status, title, detail))


def runtime(title: str, detail: str) -> Fault:
    return failure(problems.RUNTIME, 500, title, detail)


def configuration(title: str, detail: str) -> Fault:
    return failure(problems.CONFIGURATION, 400, title, detail)


def timeout(title: str, detail: str) -> Fault:
    return failure(problems.TIMEOUT, 408, title, detail)


def too_large(detail: str) -> Fault:
    """Something of the run is over a size limit; `detail` names its size and the limit."""
    return Fault(problems.too_large(detail))


def application_error(fault: Fault, redactor: Redactor) -> ApplicationError:
    """The activity failure; its message and details are redacted of the run's secrets."""
    detail = fault.problem.detail
    return replace(
        fault.problem, detail=redactor.text(detail) if detail else detail
    ).application_error()
