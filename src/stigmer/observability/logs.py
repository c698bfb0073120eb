"""Structured logs: one event per line, JSON or console, and nothing secret in them."""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

import structlog

from stigmer import redaction
from stigmer.config import Settings
from stigmer.observability.runtime import install_runtime

_TOKEN = re.compile(r"TaskToken\([^)]*\)|(?<=task_token=)[A-Za-z0-9+/=_-]{16,}")


def redact_tokens(
    _logger: object, _method: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    """Blank out task tokens that a library writes into a message (Temporal's core does)."""
    for key, value in event_dict.items():
        if isinstance(value, str) and ("TaskToken(" in value or "task_token=" in value):
            event_dict[key] = _TOKEN.sub("<redacted>", value)
    return event_dict


class _LineHandler(logging.StreamHandler[TextIO]):
    """Formats a record before taking the stream's lock, and holds the lock only to write.

    Workflow code logs too, on the SDK's workflow threads, which must not wait: a thread
    that blocks for two seconds is failed as deadlocked. A stream handler formats while
    holding its lock, so one long record (a traceback, on a loaded machine) would hold up
    every workflow that logs meanwhile.
    """

    def handle(self, record: logging.LogRecord) -> bool:
        if not self.filter(record):
            return False
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return True
        with self.lock:  # type: ignore[union-attr]
            try:
                self.stream.write(line)
                self.flush()
            except Exception:
                self.handleError(record)
        return True


def redact_secrets(
    _logger: object, _method: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    """Replace the secrets of the call being made (`stigmer.redaction.active`), whoever
    writes the line: a library logging the URL it requests sees the secret in it. An
    exception logged meanwhile is written out here, as plain text, to be redacted too."""
    redactor = redaction.current()
    if redactor is None or not redactor.values:
        return event_dict
    if event_dict.get("exc_info"):
        event_dict = structlog.processors.format_exc_info(_logger, _method, event_dict)
    for key, value in event_dict.items():
        if isinstance(value, str | list | dict):
            event_dict[key] = redactor.data(value)
    return event_dict


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Route structlog and the standard library's logging to stderr (or `stream`)."""
    level = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    out = stream or sys.stderr
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(
            colors=out.isatty(),
            # Locals of a frame can hold a task token or a secret: never print them. A
            # boxed, highlighted traceback is for a person at a terminal; in a file it
            # only costs time.
            exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False)
            if out.isatty()
            else structlog.dev.plain_traceback,
        )
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_tokens,
        redact_secrets,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=False,  # reconfiguring (tests, embedding) must take effect
    )
    handler = _LineHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Chatter of libraries (every migration check, every SQLite call) is noise; their
    # problems still surface as warnings.
    for chatty in ("alembic", "aiosqlite", "asyncio"):
        logging.getLogger(chatty).setLevel(max(level, logging.WARNING))
    # The SDK's DEBUG lines print whole activity task tokens: never below INFO.
    logging.getLogger("temporalio").setLevel(max(level, logging.INFO))
    # The Temporal core's own lines then share this format and pass the token redaction.
    install_runtime(metrics=bool(settings.metrics_port))
