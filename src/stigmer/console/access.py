"""Who a browser is to the API, and what a request must show to be served.

The console obeys the API's credentials everywhere. When the API requires a user token,
each browser user signs in with it, on loopback too: it is kept in an HttpOnly,
SameSite=Strict cookie and sent as the bearer token on that user's calls, so the API's
own access rules decide and its audit names that token. Only a loopback API without a
user token is used without signing in, as it is by any local process. The console never
acts with a credential of its own: it sends neither the server's user token nor the
worker credential.

The API names the operator of an action by the call's credential and address; the
console adds the browser's address as what the request claims (`Viewer.operator`).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import grpc
from starlette.requests import HTTPConnection
from starlette.responses import Response

from stigmer.client import ApiError, Client
from stigmer.config import Settings, is_loopback
from stigmer.user_token import fingerprint

TOKEN_COOKIE = "stigmer_console_token"
CACHED_CLIENTS = 32
"""Signed-in users' API channels kept open; the least recently used one closes first."""


@dataclass(frozen=True)
class Viewer:
    """The API as one browser user may use it, and who they say they are to its audit."""

    client: Client
    operator: str


class Access:
    def __init__(
        self,
        address: str,
        *,
        login_required: bool,
        loopback: bool = True,
        tls: bool = False,
        tls_ca: Path | None = None,
        secure_cookie: bool = False,
    ) -> None:
        self.address = address
        self.login_required = login_required
        self.loopback = loopback
        self.secure_cookie = secure_cookie
        self._tls = tls
        self._tls_ca = tls_ca
        self._shared = None if login_required else self._client(None)
        self._clients: OrderedDict[str, Client] = OrderedDict()

    @classmethod
    def for_settings(cls, settings: Settings) -> Access:
        tls = settings.tls_cert is not None
        loopback = settings.binds_loopback_only
        return cls(
            settings.address,
            login_required=settings.api_token is not None or not loopback,
            loopback=loopback,
            tls=tls,
            tls_ca=settings.tls_ca,
            secure_cookie=tls and settings.tls_key is not None,
        )

    def _client(self, token: str | None) -> Client:
        return Client(self.address, token=token, tls=self._tls, tls_ca=self._tls_ca)

    def viewer(self, request: HTTPConnection) -> Viewer | None:
        """The API for this request's user; None when they must sign in first."""
        source = request.client.host if request.client else "unknown"
        if self._shared is not None:
            # Anyone on this machine may be at the browser: name where they came from.
            return Viewer(self._shared, f"console via {source}")
        token = request.cookies.get(TOKEN_COOKIE)
        if not token:
            return None
        key = fingerprint(token)
        client = self._clients.pop(key, None) or self._client(token)
        self._clients[key] = client
        while len(self._clients) > CACHED_CLIENTS:
            _, oldest = self._clients.popitem(last=False)
            _close_later(oldest)
        return Viewer(client, f"console token {key} via {source}")

    async def token_problem(self, token: str) -> str | None:
        """Why the API refuses this token, or None when it accepts it."""
        if not token:
            return "enter the API's user token"
        client = self._client(token)
        try:
            await client.list_executions(page_size=1)
        except ApiError as exc:
            if exc.code == grpc.StatusCode.UNAUTHENTICATED:
                return "the API refused this token"
            raise
        finally:
            await client.close()
        return None

    def sign_in(self, response: Response, token: str) -> None:
        response.set_cookie(
            TOKEN_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=self.secure_cookie,
            path="/",
        )

    def sign_out(self, response: Response) -> None:
        response.delete_cookie(
            TOKEN_COOKIE, httponly=True, samesite="strict", secure=self.secure_cookie, path="/"
        )

    def forget(self, token: str) -> None:
        """A token the API no longer accepts: drop its channel."""
        client = self._clients.pop(fingerprint(token), None)
        if client is not None:
            _close_later(client)

    async def close(self) -> None:
        if self._shared is not None:
            await self._shared.close()
        while self._clients:
            _, client = self._clients.popitem()
            await client.close()


_closing: set[asyncio.Task[None]] = set()


def _close_later(client: Client) -> None:
    """Close a channel dropped from the cache without making the request wait for it."""
    task = asyncio.get_running_loop().create_task(client.close())
    _closing.add(task)
    task.add_done_callback(_closing.discard)


def host_allowed(host_header: str, loopback: bool) -> bool:
    """On loopback, only loopback names: a page elsewhere that points its own name at
    127.0.0.1 (DNS rebinding) must not read the console as if it were the same site."""
    if not loopback:
        return True
    name = urlsplit(f"//{host_header}").hostname or ""
    return is_loopback(name)


def same_origin(request: HTTPConnection) -> bool:
    """A state-changing request must come from the console's own pages (CSRF)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("origin") or _origin_of(request.headers.get("referer", ""))
    host = request.headers.get("host", "")
    return bool(origin) and origin == f"{request.url.scheme}://{host}"


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
