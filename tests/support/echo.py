"""A loopback HTTP server that answers every request with the request itself.

The answer is JSON: `method`, `path`, `query` (each name to its list of values),
`headers` (names in lower case) and `body` (as text), with the status the path starts
with when its first segment is a number (`/401/...` answers 401), else 200. A call whose
secrets went into its path, query, headers and body thus gets all of them back, in a
success or in a failure, which is what the redaction tests need.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tests.support.listening import serving


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests read answers, not access logs."""

    def _answer(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode(errors="replace") if length else ""
        first = url.path.strip("/").split("/")[0]
        status = int(first) if first.isdigit() else 200
        data = json.dumps(
            {
                "method": self.command,
                "path": url.path,
                "query": parse_qs(url.query),
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body,
            }
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer


@contextmanager
def running_echo() -> Iterator[str]:
    """Serve the echo on a free loopback port; yields its base URL."""
    with serving(_Echo, "echo") as url:
        yield url
