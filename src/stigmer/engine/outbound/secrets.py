"""Secrets: declared in `use.secrets`, read as `$secrets`, resolved only inside activities.

A secret must never reach the workflow history, so the workflow does not evaluate an
expression that reads `$secrets`: it sends the expression, with the other arguments it
names, to the activity as a deferred value (`defer`), and the activity evaluates it with
the secrets at hand (`SecretSource.resolve`). The same holds for secret-based
authentication (`basic: {use: my-secret}`), which the activity looks up by name.

The engine worker's `stigmer.secrets.SecretStore` gives the values: its environment,
then the data dir's `secrets.yaml`.

A workflow reads only the secrets it declares; a secret that is not declared or cannot be
found faults the task with the spec's authorization error (status 403).

Every value looked up, and every value a deferred expression makes from secrets, is added
to the call's `Redactor` before it is used, so the call's output, its errors and its log
lines show `***` in its place (see `remote.activity_of`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import Any

from stigmer.contract.problems import AUTHORIZATION, CONFIGURATION, Fault, Problem
from stigmer.engine import expressions as ex
from stigmer.engine.tasktype import TaskScope
from stigmer.redaction import Redactor
from stigmer.secrets import SecretFileError, SecretStore

_DEFERRED = "$stigmer/deferred"
_NAMED = re.compile(r"\$secrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*\"([^\"]+)\"\s*\])")


def declared(scope: TaskScope) -> list[str]:
    """The secret names the workflow declares in `use.secrets`."""
    definition = (scope.args.get("workflow") or {}).get("definition") or {}
    names = (definition.get("use") or {}).get("secrets") or []
    return [str(name) for name in names]


def defer(value: Any, data: Any, scope: TaskScope) -> Any:
    """Evaluate task arguments like `Evaluator.template`, except expressions that read
    `$secrets`: those become deferred values the activity evaluates."""
    evaluator = scope.evaluator
    if isinstance(value, str):
        body = ex.strict_body(value)
        text = body if body is not None else (value if evaluator.loose else None)
        if text is not None and "$secrets" in text:
            names = [n for n in ex.ARGUMENTS if n != "secrets" and f"${n}" in text]
            args = {name: scope.args.get(name) for name in names}
            return {_DEFERRED: text, "data": data, "args": args, "loose": body is None}
        return evaluator.template(value, data, scope.args, instance=scope.pointer)
    if isinstance(value, dict):
        return {key: defer(item, data, scope) for key, item in value.items()}
    if isinstance(value, list):
        return [defer(item, data, scope) for item in value]
    return value


class SecretSource:
    """The secrets an engine worker can give its activities (see the module docs)."""

    def __init__(self, store: SecretStore) -> None:
        self.store = store

    def lookup(
        self, names: Iterable[str], allowed: Iterable[str], *, instance: str, redactor: Redactor
    ) -> dict[str, Any]:
        """The values of `names`, each added to `redactor`; one not in `allowed` or not
        found is a 403 fault."""
        wanted = list(dict.fromkeys(names))
        allowed_names = set(allowed)
        for name in wanted:
            if name not in allowed_names:
                raise _denied(f"secret {name!r} is not declared in 'use.secrets'", instance)
        found: dict[str, Any] = {}
        for name in wanted:
            try:
                value = self.store.get(name)
            except SecretFileError as exc:
                raise Fault(Problem.of(CONFIGURATION, str(exc), instance=instance)) from None
            if value is None:
                raise _denied(
                    f"secret {name!r} was not found: {self.store.where(name)} "
                    "on the engine workers",
                    instance,
                )
            found[name] = value
        redactor.add_all(found)
        return found

    def resolve(
        self, value: Any, allowed: Iterable[str], *, instance: str, redactor: Redactor
    ) -> Any:
        """`value` with every deferred expression evaluated with the secrets it reads."""
        names = list(allowed)
        if isinstance(value, dict):
            if _DEFERRED in value:
                return self._evaluate(value, names, instance, redactor)
            return {
                k: self.resolve(v, names, instance=instance, redactor=redactor)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [
                self.resolve(item, names, instance=instance, redactor=redactor) for item in value
            ]
        return value

    def _evaluate(
        self, deferred: dict[str, Any], allowed: list[str], instance: str, redactor: Redactor
    ) -> Any:
        text = str(deferred[_DEFERRED])
        # An expression that reads `$secrets` as a whole gets every declared secret.
        whole = re.search(r"\$secrets(?!\s*[.\[])", text) is not None
        secrets = self.lookup(
            allowed if whole else names_read(text), allowed, instance=instance, redactor=redactor
        )
        evaluator = ex.Evaluator(loose=bool(deferred.get("loose")), clock=time.time)
        args = {**deferred.get("args", {}), "secrets": secrets}
        value = evaluator.field(
            text if deferred.get("loose") else "${ " + text + " }",
            deferred.get("data"),
            args,
            instance=instance,
        )
        _made_from_secrets(value, redactor)
        return value


def _made_from_secrets(value: Any, redactor: Redactor) -> None:
    """Redact a string an expression made from secrets, unless it already shows `***`
    where a secret was (written as it is, escaped or encoded: see `stigmer.redaction`):
    `"Bearer " + $secrets.t` keeps its prefix readable, while a form the redactor cannot
    recognize (`$secrets.t | ascii_downcase`) is redacted whole. Strings nested in an
    object or array the expression builds are not: they are as likely plain values (a
    media type) beside it."""
    if isinstance(value, str) and redactor.text(value) == value:
        redactor.add(value)


def names_read(text: str) -> list[str]:
    """The secret names an expression reads as `$secrets.NAME` or `$secrets["NAME"]`."""
    return [dotted or quoted for dotted, quoted in _NAMED.findall(text)]


def _denied(detail: str, instance: str) -> Fault:
    return Fault(Problem.of(AUTHORIZATION, detail, instance=instance, title="Secret unavailable"))
