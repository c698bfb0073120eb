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
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(),
            # Locals of a frame can hold a task token or a secret: never print them.
            exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False),
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
    handler = logging.StreamHandler(stream or sys.stderr)
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
