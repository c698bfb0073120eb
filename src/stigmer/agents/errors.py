"""Agent failures as DSL errors (type, status, title, detail) the caller can catch by type.

Every failure leaves the runner as a non-retryable `stigmer.AgentFailed`: transient
provider errors (rate limits, timeouts, an unavailable provider) were already retried
inside the run with a bounded backoff, and retrying the activity would start the agent
over and repeat its work.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.exceptions import ApplicationError

from stigmer.agents.secrets import Redactor
from stigmer.agents.workflow import AGENT_FAILED
from stigmer.handshake.outcome import RUNTIME_TYPE, TIMEOUT_TYPE

ERRORS = "https://serverlessworkflow.io/spec/1.0.0/errors/"
AUTHENTICATION_TYPE = ERRORS + "authentication"
AUTHORIZATION_TYPE = ERRORS + "authorization"
COMMUNICATION_TYPE = ERRORS + "communication"
CONFIGURATION_TYPE = ERRORS + "configuration"
VALIDATION_TYPE = ERRORS + "validation"


@dataclass
class AgentError(Exception):
    """A failure the runner reports as it is: the DSL error object of the execution."""

    type: str
    status: int
    title: str
    detail: str

    def __str__(self) -> str:
        return f"{self.title}: {self.detail}"

    def application_error(self, redactor: Redactor) -> ApplicationError:
        """The activity failure; its message and details are redacted, its cause dropped."""
        detail = redactor.text(self.detail)
        return ApplicationError(
            f"{self.title}: {detail}",
            {"type": self.type, "status": self.status, "title": self.title, "detail": detail},
            type=AGENT_FAILED,
            non_retryable=True,
        )


def runtime(title: str, detail: str) -> AgentError:
    return AgentError(RUNTIME_TYPE, 500, title, detail)


def configuration(title: str, detail: str) -> AgentError:
    return AgentError(CONFIGURATION_TYPE, 400, title, detail)


def timeout(title: str, detail: str) -> AgentError:
    return AgentError(TIMEOUT_TYPE, 408, title, detail)
