"""Secrets: resolved by the runner when an execution starts, and kept out of every record.

A definition names a secret (`{secretRef: NAME}`); the runner's secret source gives its
value. The default source is the runner's environment: `STIGMER_SECRET_<NAME>`, with the
name upper-cased and `-` and `.` turned into `_` (`openai-key` -> `STIGMER_SECRET_OPENAI_KEY`).
Values exist only in the runner's memory for the length of a run: everything the run
reports (messages, todos, output, errors, log lines) goes through a `stigmer.redaction`
Redactor first.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Protocol

from stigmer.redaction import Redactor
from stigmer.resources.agent import EnvValue, SecretRef

SECRET_PREFIX = "STIGMER_SECRET_"


class SecretSource(Protocol):
    """Where secret values come from; None when the name is unknown."""

    def get(self, name: str) -> str | None: ...


def environment_variable(name: str) -> str:
    return SECRET_PREFIX + re.sub(r"[^A-Za-z0-9_]", "_", name).upper()


class EnvironmentSecrets:
    """Secrets from the runner's environment, read at each lookup (so a rotation applies)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def get(self, name: str) -> str | None:
        return self._environ.get(environment_variable(name))


class MissingSecret(LookupError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"secret {name!r} is not set; give the runner {environment_variable(name)}"
        )


class Resolver:
    """Resolves values and secret references, remembering each secret value to redact it."""

    def __init__(self, source: SecretSource, redactor: Redactor) -> None:
        self.source = source
        self.redactor = redactor

    def value(self, value: EnvValue) -> str:
        return self.secret(value.secret_ref) if isinstance(value, SecretRef) else value

    def secret(self, name: str) -> str:
        found = self.source.get(name)
        if found is None:
            raise MissingSecret(name)
        self.redactor.add(found)
        return found

    def mapping(self, values: Mapping[str, EnvValue]) -> dict[str, str]:
        return {name: self.value(value) for name, value in values.items()}

    def check(self, names: Iterable[str]) -> None:
        """Fail before anything runs when a named secret is missing."""
        for name in names:
            self.secret(name)
