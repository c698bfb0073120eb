"""Log lines of libraries pass the same redaction as ours."""

from __future__ import annotations

import io
import logging

import structlog

CORE_LINE = (
    "Activity not found on completion. task_token=TaskToken(CiQwMWEyMDA4My0yYjE0LTdhOWItYWIy"
    "Yy1mMWFiNGQ1Y2FhNjkSKmFnZW50LWV4ZWN1dGlvbi9h==) details=Status { code: NotFound }"
)


def test_a_task_token_in_a_library_message_is_redacted(json_logs: io.StringIO) -> None:
    logging.getLogger("temporalio.core").warning(CORE_LINE)
    structlog.get_logger("stigmer.test").info("delivering", detail="task_token=" + "Q" * 40)
    written = json_logs.getvalue()
    assert "CiQwMWEy" not in written and "Q" * 40 not in written
    assert written.count("<redacted>") == 2
    assert "Activity not found on completion" in written
