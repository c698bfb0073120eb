"""Secrets: resolved by the runner when an execution starts, and kept out of every record.

A definition names a secret (`{secretRef: NAME}`); the runner's secret source gives its
value. The default source is the runner's environment: `STIGMER_SECRET_<NAME>`, with the
name upper-cased and `-` and `.` turned into `_` (`openai-key` -> `STIGMER_SECRET_OPENAI_KEY`).
Values exist only in the runner's memory for the length of a run: everything the run
reports (messages, todos, output, errors, log lines) goes through a Redactor first.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from stigmer.resources.agent import EnvValue, SecretRef

SECRET_PREFIX = "STIGMER_SECRET_"
REDACTED = "[redacted]"
MIN_REDACTED_LENGTH = 4
"""Shorter values would redact ordinary words; a secret that short protects nothing."""


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


@dataclass
class Redactor:
    """Replaces every known secret value in text and JSON-like data."""

    values: list[str] = field(default_factory=list)

    def add(self, value: str) -> None:
        if len(value) >= MIN_REDACTED_LENGTH and value not in self.values:
            # Longest first, so a secret containing another is replaced whole.
            self.values.append(value)
            self.values.sort(key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self.values:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value

    def data(self, value: Any) -> Any:
        """A copy of JSON-like data with secrets replaced in every string, keys included."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(item) for item in value]
        return value


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
