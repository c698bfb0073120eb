"""Secrets: resolved by the runner when an execution starts, and kept out of every record.

A definition names a secret (`{secretRef: NAME}`); the runner's `stigmer.secrets`
store gives its value: `STIGMER_SECRET_<NAME>` in the runner's environment (the name
upper-cased, every other character `_`: `openai-key` -> `STIGMER_SECRET_OPENAI_KEY`), or
the data dir's `secrets.yaml`. Values exist only in the runner's memory for the length of
a run: everything the run reports (messages, todos, output, errors, log lines) goes
through a `stigmer.redaction` Redactor first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from stigmer.redaction import Redactor
from stigmer.resources.agent import EnvValue, SecretRef
from stigmer.secrets import SecretFileError, SecretStore


class MissingSecret(LookupError):
    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        super().__init__(f"secret {name!r} {problem}")


class Resolver:
    """Resolves values and secret references, remembering each secret value to redact it."""

    def __init__(self, store: SecretStore, redactor: Redactor) -> None:
        self.store = store
        self.redactor = redactor

    def value(self, value: EnvValue) -> str:
        return self.secret(value.secret_ref) if isinstance(value, SecretRef) else value

    def secret(self, name: str) -> str:
        try:
            found = self.store.get(name)
        except SecretFileError as exc:
            raise MissingSecret(name, f"cannot be read: {exc}") from None
        if found is None:
            raise MissingSecret(name, f"is not set; for the runner, {self.store.where(name)}")
        if not isinstance(found, str):
            raise MissingSecret(name, "is not text: an agent's environment takes strings")
        self.redactor.add(found)
        return found

    def mapping(self, values: Mapping[str, EnvValue]) -> dict[str, str]:
        return {name: self.value(value) for name, value in values.items()}

    def check(self, names: Iterable[str]) -> None:
        """Fail before anything runs when a named secret is missing."""
        for name in names:
            self.secret(name)
