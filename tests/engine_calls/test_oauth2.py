"""OAuth2 and OpenID Connect: an access token from a loopback authority, sent as bearer."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from tests.support.engine import Engine, document

pytestmark = pytest.mark.temporal

TOKEN = "at-0b7f3c"
AUTHENTICATION = "https://serverlessworkflow.io/spec/1.0.0/errors/authentication"


class _Authority(BaseHTTPRequestHandler):
    """A token endpoint (client credentials), OIDC discovery, and a protected resource."""

    def log_message(self, *_: object) -> None:
        pass

    def _answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path == "/realm/.well-known/openid-configuration":
            self._answer(200, {"token_endpoint": f"{base}/realm/protocol/token"})
        elif self.path == "/protected":
            if self.headers.get("Authorization") == f"Bearer {TOKEN}":
                self._answer(200, {"ok": True})
            else:
                self._answer(401, {"error": "no token"})
        else:
            self._answer(404, {})

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        good = form.get("client_id") == ["runtime"] and form.get("client_secret") == ["s3cret"]
        if self.path in ("/realm/oauth2/token", "/realm/protocol/token") and good:
            self._answer(200, {"access_token": TOKEN, "token_type": "Bearer"})
        else:
            self._answer(401, {"error": "invalid_client", "error_description": "who are you?"})


@pytest.fixture(scope="module")
def authority() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Authority)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def protected(base: str, scheme: str, secret: str) -> str:
    return document(
        f"""
  - fetch:
      call: http
      with:
        method: get
        endpoint:
          uri: {base}/protected
          authentication:
            {scheme}:
              authority: {base}/realm
              grant: client_credentials
              client: {{id: runtime, secret: {secret}}}
"""
    )


@pytest.mark.parametrize("scheme", ["oauth2", "oidc"])
async def test_a_token_is_fetched_and_sent(engine: Engine, authority: str, scheme: str) -> None:
    assert await engine.run(protected(authority, scheme, "s3cret")) == {"ok": True}


async def test_a_refused_token_is_an_authentication_error(engine: Engine, authority: str) -> None:
    error = await engine.fault(protected(authority, "oauth2", "wrong"))
    assert error["type"] == AUTHENTICATION
    assert error["status"] == 401
    assert "who are you?" in error["detail"]
    assert error["instance"] == "/do/0/fetch"
