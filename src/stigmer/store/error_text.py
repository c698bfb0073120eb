"""Database errors that name no parameter value, since a value may be a task token.

`hide_parameters` keeps SQLAlchemy from listing a failed statement's parameters, but a
driver may quote a value in its own message: asyncpg, given a value it cannot encode,
says `invalid input for query argument $2: b'...' (...)` with the value's repr cut at 40
characters. Every error a statement raises therefore has the values of its parameters
(and the forms drivers quote them in) replaced by `***`, in the exception SQLAlchemy
raises and in every exception it was raised from, before anything logs or answers it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine

from stigmer.redaction import Redactor

DRIVER_REPR_CUT = 40
"""asyncpg quotes a value as the first 40 characters of its repr."""
_QUOTED_ATTRIBUTES = ("message", "detail")
"""Driver errors (asyncpg's) keep the server's text in these too."""


def hide_values(engine: AsyncEngine) -> None:
    """Scrub parameter values from every error `engine`'s statements raise."""
    event.listen(engine.sync_engine, "handle_error", _scrub)


def _scrub(context: ExceptionContext) -> None:
    redactor = Redactor()
    for value in _values(context.parameters):
        for form in (str(value), repr(value), repr(value)[:DRIVER_REPR_CUT]):
            redactor.add(form)
    if not redactor.values:
        return
    seen: set[int] = set()
    pending: list[BaseException | None] = [
        context.sqlalchemy_exception,
        context.original_exception,
    ]
    while pending:
        error = pending.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        error.args = tuple(redactor.text(a) if isinstance(a, str) else a for a in error.args)
        for name in _QUOTED_ATTRIBUTES:
            quoted = getattr(error, name, None)
            if isinstance(quoted, str):
                with contextlib.suppress(AttributeError):  # read-only on some drivers
                    setattr(error, name, redactor.text(quoted))
        orig = getattr(error, "orig", None)
        pending += [error.__cause__, error.__context__]
        if isinstance(orig, BaseException):
            pending.append(orig)


def _values(parameters: Any) -> Iterable[Any]:
    """Each parameter value, whether one statement's (a tuple or a mapping) or many's."""
    if isinstance(parameters, dict):
        for value in parameters.values():
            yield from _values(value)
    elif isinstance(parameters, list | tuple):
        for value in parameters:
            yield from _values(value)
    elif parameters is not None and not isinstance(parameters, bool | int | float):
        yield parameters
