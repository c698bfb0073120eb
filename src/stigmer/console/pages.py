"""The HTML side: one Jinja environment for whole pages and for the fragments that live
streams swap into them, so both come from the same templates."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from stigmer.console.views import pretty, stamp

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def _asset_version() -> str:
    """Changes whenever a static file does, so browsers never run a stale script."""
    digest = hashlib.sha256()
    for path in sorted(STATIC.iterdir()):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def _duration(seconds: float | int | None) -> str:
    if seconds is None:
        return "-"
    whole = max(int(seconds), 0)
    if whole < 120:
        return f"{whole}s"
    if whole < 7200:
        return f"{whole // 60}m {whole % 60}s"
    return f"{whole // 3600}h {whole % 3600 // 60}m"


def _moment(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _ago(iso: str | None) -> str:
    if not iso:
        return "-"
    return f"{_duration((datetime.now(UTC) - _moment(iso)).total_seconds())} ago"


def _span(started: str | None, finished: str | None) -> str:
    """How long it ran: to its end, or until now while it runs."""
    if not started:
        return "-"
    end = _moment(finished) if finished else datetime.now(UTC)
    return _duration((end - _moment(started)).total_seconds())


class Pages:
    def __init__(self, *, login_required: bool) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["stamp"] = stamp
        self.env.filters["pretty"] = pretty
        self.env.filters["duration"] = _duration
        self.env.filters["ago"] = _ago
        self.env.filters["span"] = _span
        self.env.globals["asset_version"] = _asset_version()
        self.env.globals["login_required"] = login_required

    def page(
        self, request: Request, name: str, *, status: int = 200, **context: Any
    ) -> HTMLResponse:
        html = self.env.get_template(name).render(request=request, **context)
        return HTMLResponse(html, status_code=status)

    def fragment(self, name: str, macro: str, *args: Any) -> str:
        """One macro of a template, rendered alone (a section or a row of a page)."""
        module = self.env.get_template(name).module
        rendered: Markup = getattr(module, macro)(*args)
        return str(rendered)
