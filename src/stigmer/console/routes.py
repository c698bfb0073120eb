"""The console's pages, streams and actions, each a thin handler over the API client."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import grpc
from sse_starlette import EventSourceResponse
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import ApiError
from stigmer.config import Settings
from stigmer.console.access import TOKEN_COOKIE, Access, Viewer
from stigmer.console.listing import LIMIT, PHASES, ListQuery
from stigmer.console.live import Live
from stigmer.console.pages import STATIC, Pages
from stigmer.console.run_input import InputProblem, checked_input, input_schema
from stigmer.console.streams import ExecutionUpdates, execution_events, list_events
from stigmer.console.tree import call_tree
from stigmer.console.views import detail, messages, pretty, row, stamp
from stigmer.resources.values import to_json
from stigmer.user_token import fingerprint

PING_SECONDS = 15
"""Keeps idle streams open through proxies that close silent connections."""
ADVICE = {
    pb.STUCK_PENDING: (
        "Never started: check that workers poll its queue (stigmer worker --queue agents or "
        "engine), then fail it or complete it by hand from its page."
    ),
    pb.STUCK_IN_PROGRESS: (
        "Still running past the threshold: open it and see whether it still moves; if it is "
        "lost, fail it or complete it by hand from its page."
    ),
    pb.STUCK_CALLBACK_WAITING: (
        "Finished, but its caller was never told: check the agents queue workers, then "
        "complete or fail it by hand to tell the caller."
    ),
    pb.STUCK_CALLBACK_FAILED: (
        "Telling its caller failed (see the detail): if the caller still waits, complete or "
        "fail it by hand to deliver again."
    ),
}
DONE_NOTICES = {
    "cancel": "Stop requested: the phase below changes as soon as the execution has ended.",
    "complete": "Completed by hand; its caller was told.",
    "fail": "Failed by hand; its caller was told.",
}


class SignInRequired(Exception):
    """This browser has no user token yet (the API requires one)."""


@dataclass
class Handlers:
    settings: Settings
    access: Access
    live: Live
    pages: Pages

    def viewer(self, request: Request) -> Viewer:
        found = self.access.viewer(request)
        if found is None:
            raise SignInRequired
        return found

    def page(self, request: Request, name: str, *, status: int = 200, **context: Any) -> Response:
        context.setdefault("section", "")
        signed_in = self.access.login_required and TOKEN_COOKIE in request.cookies
        return self.pages.page(request, name, status=status, signed_in=signed_in, **context)

    # ----------------------------------------------------------------- lists

    async def home(self, request: Request) -> Response:
        return RedirectResponse("/executions", status_code=302)

    async def executions(self, request: Request) -> Response:
        client = self.viewer(request).client
        query = ListQuery.from_params(request.query_params)
        rows = [row(e) for e in query.shown(await query.fetch(client))]
        return self.page(
            request,
            "executions.html",
            section="executions",
            query=query,
            rows=rows,
            phases=PHASES,
            limit=LIMIT,
        )

    async def executions_stream(self, request: Request) -> Response:
        viewer = self.access.viewer(request)
        if viewer is None:
            return PlainTextResponse("sign in first", status_code=401)
        query = ListQuery.from_params(request.query_params)
        token = request.cookies.get(TOKEN_COOKIE, "")
        events = list_events(self.live, self.pages, query, viewer.client, fingerprint(token))
        return EventSourceResponse(events, ping=PING_SECONDS)

    # ------------------------------------------------------------- execution

    async def execution(
        self,
        request: Request,
        *,
        notice: str | None = None,
        tone: str = "note",
        status: int = 200,
    ) -> Response:
        execution_id = request.path_params["execution_id"]
        client = self.viewer(request).client
        try:
            execution = await client.execution(execution_id)
        except ApiError as exc:
            if exc.code != grpc.StatusCode.NOT_FOUND:
                raise
            return self.page(
                request,
                "error.html",
                status=404,
                title="No such execution",
                message=f"There is no execution {execution_id!r}.",
                hint="Its id may be mistyped, or it belongs to another platform's store.",
            )
        done = request.query_params.get("done", "")
        return self.page(
            request,
            "execution.html",
            status=status,
            d=detail(execution, self.settings),
            items=messages(execution),
            tree=await call_tree(client, execution),
            notice=notice or DONE_NOTICES.get(done),
            notice_tone=tone,
        )

    async def execution_stream(self, request: Request) -> Response:
        viewer = self.access.viewer(request)
        if viewer is None:
            return PlainTextResponse("sign in first", status_code=401)
        shown = request.headers.get("last-event-id") or request.query_params.get("revision", "")
        updates = ExecutionUpdates(
            self.pages, self.settings, viewer.client, int(shown) if shown.isdigit() else 0
        )
        events = execution_events(self.live, updates, request.path_params["execution_id"])
        return EventSourceResponse(events, ping=PING_SECONDS)

    async def execution_result(self, request: Request) -> Response:
        client = self.viewer(request).client
        result = await client.result(request.path_params["execution_id"])
        return JSONResponse(to_json(result))

    # --------------------------------------------------------------- actions

    async def cancel(self, request: Request) -> Response:
        viewer = self.viewer(request)
        reason = str((await request.form()).get("reason", "")).strip()
        await self._act(
            lambda: viewer.client.cancel(self._id(request), reason, operator=viewer.operator)
        )
        return self._done(request, "cancel")

    async def complete(self, request: Request) -> Response:
        viewer = self.viewer(request)
        form = await request.form()
        output, reason = str(form.get("output", "")), str(form.get("reason", "")).strip()
        await self._act(
            lambda: viewer.client.complete(
                self._id(request), output, operator=viewer.operator, reason=reason
            ),
        )
        return self._done(request, "complete")

    async def fail(self, request: Request) -> Response:
        viewer = self.viewer(request)
        reason = str((await request.form()).get("reason", "")).strip()
        await self._act(
            lambda: viewer.client.fail(self._id(request), reason, operator=viewer.operator)
        )
        return self._done(request, "fail")

    async def _act(self, action: Callable[[], Awaitable[object]]) -> None:
        """Run an operator action; the API's refusal is shown on the page, not raised."""
        try:
            await action()
        except ApiError as exc:
            if exc.code in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.INVALID_ARGUMENT):
                raise ActionRefused(str(exc)) from None
            raise

    def _id(self, request: Request) -> str:
        execution_id: str = request.path_params["execution_id"]
        return execution_id

    def _done(self, request: Request, action: str) -> Response:
        where = f"/executions/{quote(self._id(request), safe='')}?done={action}"
        return RedirectResponse(where, status_code=303)

    async def refused(self, request: Request, exc: Exception) -> Response:
        return await self.execution(
            request, notice=f"The API refused: {exc}", tone="problem", status=409
        )

    # ------------------------------------------------------- stuck, definitions

    async def stuck(self, request: Request) -> Response:
        found = await self.viewer(request).client.list_stuck()
        items = [
            {
                "row": row(item.execution),
                "reason": pb.StuckReason.Name(item.reason).removeprefix("STUCK_").lower(),
                "age_seconds": item.age.ToTimedelta().total_seconds(),
                "detail": item.execution.status.callback.detail,
                "advice": ADVICE.get(item.reason, ""),
            }
            for item in found.stuck
        ]
        threshold = found.stuck_after.ToTimedelta().total_seconds()
        return self.page(request, "stuck.html", section="stuck", items=items, threshold=threshold)

    async def definitions(
        self,
        request: Request,
        *,
        failed: tuple[str, str, str, str] | None = None,
        status: int = 200,
    ) -> Response:
        """The definitions, with `failed` = (kind, name, entered text, problem) of a run."""
        found = await self.viewer(request).client.list()
        items = [_definition(definition) for definition in found]
        if failed is not None:
            for item in items:
                if (item["kind"], item["name"]) == failed[:2]:
                    item.update(entered=failed[2], problem=failed[3])
        groups = [
            {"title": "Agents", "entries": [i for i in items if i["kind"] == "agent"]},
            {"title": "Workflows", "entries": [i for i in items if i["kind"] == "workflow"]},
        ]
        return self.page(
            request, "definitions.html", section="definitions", groups=groups, status=status
        )

    async def run(self, request: Request) -> Response:
        client = self.viewer(request).client
        kind, name = request.path_params["kind"], request.path_params["name"]
        form = await request.form()
        entered = str(form.get("input" if kind == "workflow" else "message", ""))
        try:
            if kind == "workflow":
                definition = await client.get("workflow", name)
                value = checked_input(entered, input_schema(to_json(definition.spec)))
                created = await client.run_workflow(name, input=value)
            else:
                if not entered.strip():
                    raise InputProblem("enter a message for the agent")
                created = await client.run_agent(name, entered)
        except InputProblem as exc:
            return await self.definitions(
                request, failed=(kind, name, entered, str(exc)), status=422
            )
        except ApiError as exc:
            if exc.code not in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND):
                raise
            problem = f"the API refused: {exc}"
            return await self.definitions(
                request, failed=(kind, name, entered, problem), status=422
            )
        return RedirectResponse(f"/executions/{created.execution.id}", status_code=303)

    # --------------------------------------------------------------- sign-in

    async def login_form(self, request: Request) -> Response:
        if not self.access.login_required:
            return RedirectResponse("/executions", status_code=302)
        return self.page(
            request, "login.html", next=_local_path(request.query_params.get("next")), problem=None
        )

    async def login(self, request: Request) -> Response:
        if not self.access.login_required:
            return RedirectResponse("/executions", status_code=303)
        form = await request.form()
        token, where = str(form.get("token", "")), _local_path(str(form.get("next", "")))
        problem = await self.access.token_problem(token)
        if problem is not None:
            return self.page(request, "login.html", status=401, next=where, problem=problem)
        response = RedirectResponse(where, status_code=303)
        self.access.sign_in(response, token)
        return response

    async def logout(self, request: Request) -> Response:
        token = request.cookies.get(TOKEN_COOKIE)
        if token:
            self.access.forget(token)
        response = RedirectResponse("/login", status_code=303)
        self.access.sign_out(response)
        return response

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.home),
            Route("/executions", self.executions),
            Route("/executions/stream", self.executions_stream),
            Route("/executions/{execution_id}", self.execution),
            Route("/executions/{execution_id}/stream", self.execution_stream),
            Route("/executions/{execution_id}/result", self.execution_result),
            Route("/executions/{execution_id}/cancel", self.cancel, methods=["POST"]),
            Route("/executions/{execution_id}/complete", self.complete, methods=["POST"]),
            Route("/executions/{execution_id}/fail", self.fail, methods=["POST"]),
            Route("/stuck", self.stuck),
            Route("/definitions", self.definitions),
            Route("/definitions/{kind:str}/{name:str}/run", self.run, methods=["POST"]),
            Route("/login", self.login_form),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]


class ActionRefused(Exception):
    """The API refused an operator action (nothing left to finish, a reason missing)."""


def _local_path(path: str | None) -> str:
    """Where to go after signing in: a path on this console only, never another site."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return "/executions"


def _definition(definition: pb.Definition) -> dict[str, Any]:
    spec = to_json(definition.spec)
    kind = pb.DefinitionKind.Name(definition.kind).lower()
    if kind == "agent":
        about = spec.get("model") or spec.get("entrypoint") or ""
    else:
        document = spec.get("document", {})
        about = f"{document.get('namespace', '')}/{document.get('name', '')} {document.get('version', '')}"
    schema = input_schema(spec) if kind == "workflow" else None
    return {
        "kind": kind,
        "name": definition.metadata.name,
        "version": definition.version,
        "generation": definition.generation,
        "updated": stamp(definition.updated_at),
        "about": about,
        "spec": pretty(spec),
        "schema": None if schema is None else pretty(schema),
        "entered": None,
        "problem": None,
    }
