"""Log lines of libraries pass the same redaction as ours: tokens, and the secrets of
the call being made."""

from __future__ import annotations

import io
import logging

import structlog

from stigmer.redaction import Redactor, active

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


def test_the_secrets_of_the_call_being_made_are_redacted_from_every_line(
    json_logs: io.StringIO,
) -> None:
    redactor = Redactor()
    redactor.add("sk-live key/42")
    with active(redactor):
        # What httpx writes about each request it sends: the URL, encoded as sent.
        logging.getLogger("httpx").info(
            "HTTP Request: GET http://127.0.0.1/x?key=sk-live+key%2F42 HTTP/1.1 200 OK"
        )
        structlog.get_logger("stigmer.test").info("calling", url="http://h/sk-live key/42")
        try:
            raise ValueError("refused http://h/sk-live key/42")
        except ValueError:
            logging.getLogger("mcp").exception("the call broke")
            structlog.get_logger("stigmer.test").exception("the call broke too")
    logging.getLogger("httpx").info("after the call: sk-live key/42 is no longer known")
    written = json_logs.getvalue()
    assert "GET http://127.0.0.1/x?key=*** HTTP/1.1" in written
    assert '"url": "http://h/***"' in written
    assert written.count("ValueError: refused http://h/***") == 2
    assert "sk-live+key" not in written and "sk-live key/42 is no longer known" in written
    assert written.count("sk-live key/42") == 1
