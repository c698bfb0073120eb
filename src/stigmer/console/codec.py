"""The codec endpoint: the platform's sealed payloads, opened for an operator who may read them.

Temporal's remote codec protocol (`POST /codec/decode`, JSON `{"payloads": [...]}` with
base64 metadata and data), so the Temporal UI (`--ui-codec-endpoint`, which `stigmer
server` gives its embedded UI) and `temporal workflow show --codec-endpoint URL
--codec-auth "Bearer TOKEN"` show histories decoded. It opens only: there is no encode, so
nothing it serves helps anyone make a payload the platform would take for its own.
Payloads the platform did not seal are handed back as they came, for the operator to see
what a forgery said.

Who may ask: the same people as the API. Without a user token (loopback only) anyone on
the machine; with one, a request carries it as a bearer token or in the console's sign-in
cookie. Browsers may ask from the console's own origin and from the Temporal UI's
(`--temporal-ui-url`, or the embedded UI), and no other.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from typing import Any
from urllib.parse import urlsplit

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payload

from stigmer.config import Settings
from stigmer.console.access import TOKEN_COOKIE
from stigmer.credentials import MissingCredential, payload_keyring
from stigmer.sealing.codec import SealingCodec
from stigmer.sealing.keys import KeyringError

log = structlog.get_logger("stigmer.console")

PATH = "/codec"
MAX_BODY_BYTES = 64 * 1024 * 1024
"""A request larger than this is refused (Temporal's own payload limit is 4 MiB)."""
ALLOWED_HEADERS = "authorization, content-type, x-namespace"


class CodecEndpoint:
    """`/codec/decode` for the platform `settings` describe (see the module's docstring)."""

    def __init__(self, settings: Settings, temporal_ui: str | None) -> None:
        self._token = settings.api_token.get_secret_value() if settings.api_token else None
        self._origins = {_origin(url) for url in (temporal_ui,) if url}
        try:
            self._codec: SealingCodec | None = SealingCodec(payload_keyring(settings))
        except (MissingCredential, KeyringError) as exc:
            log.warning("codec endpoint off: no payload keys", reason=str(exc))
            self._codec = None

    def routes(self) -> list[Route]:
        return [Route(f"{PATH}/decode", self.decode, methods=["POST", "OPTIONS"])]

    async def decode(self, request: Request) -> Response:
        origin = request.headers.get("origin")
        if origin is not None and not self._origin_allowed(origin, request):
            return PlainTextResponse("refused: this origin may not use the codec", 403)
        if request.method == "OPTIONS":
            return self._cors(Response(status_code=204), origin)
        if not self._admitted(request):
            return self._cors(PlainTextResponse("the API's user token is required", 401), origin)
        if self._codec is None:
            return self._cors(PlainTextResponse("this console has no payload keys", 503), origin)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return self._cors(PlainTextResponse("too large", 413), origin)
        try:
            payloads = [_payload(item) for item in json.loads(body)["payloads"]]
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            return self._cors(PlainTextResponse(f"not a codec request: {exc}", 400), origin)
        codec = self._codec
        opened = [codec.opened(payload) or payload for payload in payloads]
        return self._cors(JSONResponse({"payloads": [_json(p) for p in opened]}), origin)

    def _origin_allowed(self, origin: str, request: Request) -> bool:
        own = f"{request.url.scheme}://{request.headers.get('host', '')}"
        return origin == own or origin in self._origins

    def _admitted(self, request: Request) -> bool:
        if self._token is None:
            return True  # no user token: the API itself admits anyone (loopback only)
        given = request.headers.get("authorization", "")
        bearer = given[7:] if given.lower().startswith("bearer ") else ""
        cookie = request.cookies.get(TOKEN_COOKIE, "")
        return any(
            hmac.compare_digest(candidate.encode(), self._token.encode())
            for candidate in (bearer, cookie)
            if candidate
        )

    @staticmethod
    def _cors(response: Response, origin: str | None) -> Response:
        if origin is not None:
            response.headers["access-control-allow-origin"] = origin
            response.headers["access-control-allow-credentials"] = "true"
            response.headers["access-control-allow-methods"] = "POST, OPTIONS"
            response.headers["access-control-allow-headers"] = ALLOWED_HEADERS
            response.headers["vary"] = "Origin"
        return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _payload(item: dict[str, Any]) -> Payload:
    return Payload(
        metadata={str(k): base64.b64decode(v) for k, v in item.get("metadata", {}).items()},
        data=base64.b64decode(item.get("data", "")),
    )


def _json(payload: Payload) -> dict[str, Any]:
    return {
        "metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
        "data": base64.b64encode(payload.data).decode(),
    }
