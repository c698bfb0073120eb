"""A failed write's error names no parameter value: the token it was writing stays out."""

from __future__ import annotations

import traceback
import uuid
from typing import Any

import pytest
from sqlalchemy.exc import SQLAlchemyError

from stigmer.store.database import now
from stigmer.store.store import Store
from stigmer.store.tables import CallbackTokenRow
from tests.support.leaks import leaked

TOKEN = b"RECOGNIZABLE-TOKEN-" + bytes(range(48))


def _everything_said(error: BaseException) -> str:
    """What a log line or an answer could show: every message in the chain, and the
    traceback as a log would print it."""
    said = [str(error), repr(error), "".join(traceback.format_exception(error))]
    cause: BaseException | None = error
    while cause is not None:
        said += [str(cause), repr(cause), *map(str, getattr(cause, "args", ()))]
        said += [str(getattr(cause, name, "")) for name in ("message", "detail")]
        cause = cause.__cause__ or cause.__context__
    return "\n".join(said)


def _row(**changed: Any) -> CallbackTokenRow:
    values: dict[str, Any] = {
        "execution_id": f"aex-missing-{uuid.uuid4().hex}",
        "task_token": TOKEN,
        "attempt": 1,
        "namespace": "default",
        "updated_at": now(),
    }
    return CallbackTokenRow(**{**values, **changed})


@pytest.mark.parametrize(
    "row",
    [
        pytest.param(_row, id="integrity: a token for an execution that does not exist"),
        pytest.param(lambda: _row(namespace=TOKEN), id="type: the token where text belongs"),
        pytest.param(
            lambda: _row(task_token=TOKEN.decode("latin-1")), id="type: the token as text"
        ),
    ],
)
async def test_a_failed_write_quotes_no_value(store: Store, row: Any) -> None:
    with pytest.raises(SQLAlchemyError) as caught:
        async with store.db.writing() as session:
            session.add(row())
    said = _everything_said(caught.value)
    assert "INSERT INTO callback_tokens" in said  # what failed is still said
    assert leaked(TOKEN, {"error": said}) == []
    assert leaked(TOKEN.decode("latin-1"), {"error": said}) == []
    assert "RECOGNIZABLE" not in said
