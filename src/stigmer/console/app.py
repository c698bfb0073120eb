"""The console's ASGI app: routes, error pages, and the checks every request passes."""

from __future__ import annotations

from urllib.parse import quote

import grpc
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stigmer.client import ApiError, ApiUnreachable
from stigmer.config import Settings
from stigmer.console.access import TOKEN_COOKIE, Access, host_allowed, same_origin
from stigmer.console.codec import PATH as CODEC_PATH
from stigmer.console.codec import CodecEndpoint
from stigmer.console.live import Live
from stigmer.console.pages import Pages
from stigmer.console.routes import ActionRefused, Handlers, SignInRequired
from stigmer.console.views import temporal_ui_base

SECURITY_HEADERS = {
    # Only this console's own files: no inline script, nothing from elsewhere.
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
API_STATUS = {
    grpc.StatusCode.NOT_FOUND: (404, "Not found"),
    grpc.StatusCode.INVALID_ARGUMENT: (400, "Not a valid request"),
    grpc.StatusCode.FAILED_PRECONDITION: (409, "Not possible now"),
    grpc.StatusCode.PERMISSION_DENIED: (403, "Not allowed"),
    grpc.StatusCode.UNAUTHENTICATED: (401, "The API refused the token"),
}


class Guard:
    """Refuses requests from other sites, and marks every answer as this site's only.

    On loopback the Host must be a loopback name (a rebound DNS name would otherwise
    read the console as its own site); every state-changing request must come from the
    console's own pages (CSRF), whatever the cookie's SameSite already prevents.
    """

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = HTTPConnection(scope)
        refusal: Response | None = None
        if not host_allowed(request.headers.get("host", ""), self.access.loopback):
            refusal = PlainTextResponse("unexpected Host for a loopback console", 400)
        elif (
            scope["method"] not in SAFE_METHODS
            and not scope["path"].startswith(f"{CODEC_PATH}/")  # it checks origins itself
            and not same_origin(request)
        ):
            refusal = PlainTextResponse("refused: the request did not come from this console", 403)

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        if refusal is not None:
            await refusal(scope, receive, send_marked)
        else:
            await self.app(scope, receive, send_marked)


def create_app(settings: Settings, access: Access, live: Live) -> Starlette:
    pages = Pages(login_required=access.login_required)
    handlers = Handlers(settings, access, live, pages)

    def error_page(
        request: Request, status: int, title: str, message: str, hint: str = ""
    ) -> Response:
        return handlers.page(
            request, "error.html", status=status, title=title, message=message, hint=hint
        )

    async def sign_in_first(request: Request, exc: Exception) -> Response:
        if request.method not in SAFE_METHODS:
            return PlainTextResponse("sign in first", status_code=401)
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    async def unreachable(request: Request, exc: Exception) -> Response:
        return error_page(
            request,
            503,
            "The API does not answer",
            str(exc),
            "Once it runs again, reload this page.",
        )

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        if exc.code == grpc.StatusCode.UNAUTHENTICATED and access.login_required:
            token = request.cookies.get(TOKEN_COOKIE)
            if token:
                access.forget(token)
            response = RedirectResponse("/login", status_code=303)
            access.sign_out(response)
            return response
        status, title = API_STATUS.get(exc.code, (502, "The API could not answer"))
        return error_page(request, status, title, str(exc) or exc.code.name)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        title = "Page not found" if exc.status_code == 404 else "Request refused"
        return error_page(request, exc.status_code, title, str(exc.detail))

    codec = CodecEndpoint(settings, temporal_ui_base(settings))
    return Starlette(
        routes=[*handlers.routes(), *codec.routes()],
        middleware=[Middleware(Guard, access=access)],
        exception_handlers={
            SignInRequired: sign_in_first,
            ActionRefused: handlers.refused,
            ApiUnreachable: unreachable,
            ApiError: api_error,
            HTTPException: http_error,
        },
    )
