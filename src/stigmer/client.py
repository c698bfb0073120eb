"""`stigmer.Client`: the typed async client of the Stigmer API.

The CLI, the console and users' programs talk to the API through `Client`; the
platform's own workers through `WorkerClient`, which adds the worker-only methods and
carries the worker credential. A client refuses to send a token in plaintext to an
address beyond this machine unless told to.

A client may be given several API addresses (`a:7234,b:7234`): each call goes to the
next one in turn, skipping those whose connection is failing, and a call that could not
connect at all is made again at the next address. One load-balanced address works too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from operator import attrgetter
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import grpc
from google.protobuf.message import Message

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.api_failures import MESSAGE_LIMIT, TooLarge, translated
from stigmer.api_failures import ApiError as ApiError  # the client's errors, where they always were
from stigmer.api_failures import ApiUnreachable as ApiUnreachable
from stigmer.contract.limits import MAX_MESSAGE_BYTES, over_limit
from stigmer.endpoints import Endpoint, host_of, split_addresses
from stigmer.observability.tracing import outgoing_metadata

if TYPE_CHECKING:
    from stigmer.config import Settings

R = TypeVar("R", bound=Message)
T = TypeVar("T")
CALL_TIMEOUT = 60.0
"""Seconds a single request may take: a hung connection fails (and is retried by whoever
called) instead of holding its caller until some far longer timeout."""
DEFINITION_KINDS = {"agent": pb.AGENT, "workflow": pb.WORKFLOW}


class PlaintextRefused(ValueError):
    """A token would travel unencrypted to another machine."""


class Client:
    def __init__(
        self,
        address: str = "127.0.0.1:7234",
        *,
        token: str | None = None,
        tls_ca: Path | None = None,
        tls: bool = False,
        call_timeout: float = CALL_TIMEOUT,
        allow_plaintext: bool = False,
    ) -> None:
        secure = tls or tls_ca is not None
        addresses = split_addresses(address)
        for each in addresses:
            if token and not secure and not allow_plaintext and not _loopback(host_of(each)):
                raise PlaintextRefused(
                    f"refusing to send the API token unencrypted to {each}: use TLS "
                    "(--tls-ca FILE, or --tls for a publicly trusted certificate), or "
                    "--allow-plaintext (STIGMER_ALLOW_PLAINTEXT=true) on a network you trust"
                )
        self.address = address
        self.call_timeout = call_timeout
        options: list[Any] = [
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            # After an outage the API is used again within seconds: gRPC's own reconnect
            # backoff would otherwise grow to two minutes while callers retry in vain.
            ("grpc.initial_reconnect_backoff_ms", 500),
            ("grpc.min_reconnect_backoff_ms", 500),
            ("grpc.max_reconnect_backoff_ms", 5000),
        ]
        credentials = (
            grpc.ssl_channel_credentials(tls_ca.read_bytes() if tls_ca else None)
            if secure
            else None
        )
        self.endpoints = [Endpoint(each, credentials, options) for each in addresses]
        self._turn = 0
        self._metadata: tuple[tuple[str, str], ...] = (
            (("authorization", f"Bearer {token}"),) if token else ()
        )

    def in_turn(self) -> list[Endpoint]:
        """Every endpoint once, starting at the next in turn, those connecting or failing last."""
        count = len(self.endpoints)
        start, self._turn = self._turn, (self._turn + 1) % count
        order = [self.endpoints[(start + offset) % count] for offset in range(count)]
        return sorted(order, key=lambda endpoint: endpoint.standing)

    @classmethod
    def from_settings(cls, settings: Settings) -> Client:
        token = settings.api_token.get_secret_value() if settings.api_token else None
        return cls(
            settings.address,
            token=token,
            tls_ca=settings.tls_ca,
            tls=settings.tls,
            allow_plaintext=settings.allow_plaintext,
        )

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        for endpoint in self.endpoints:
            await endpoint.channel.close(None)

    async def wait_ready(self, seconds: float) -> None:
        """Wait until the API answers at one of the addresses, or raise ApiUnreachable."""
        waits = [asyncio.ensure_future(e.channel.channel_ready()) for e in self.endpoints]
        try:
            done, _ = await asyncio.wait(
                waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for wait in waits:
                wait.cancel()
        if not done:
            raise ApiUnreachable(f"no Stigmer API at {self.address}")

    # ------------------------------------------------------------ definitions

    async def apply(
        self,
        kind: str,
        name: str,
        spec: dict[str, Any],
        *,
        labels: dict[str, str] | None = None,
    ) -> pb.ApplyDefinitionResponse:
        definition = pb.Definition(kind=_definition_kind(kind))
        definition.metadata.name = name
        definition.metadata.labels.update(labels or {})
        definition.spec.update(spec)
        return await self._call(
            "definitions.Apply",
            pb.ApplyDefinitionRequest(definition=definition),
            pb.ApplyDefinitionResponse,
        )

    async def get(self, kind: str, name: str, version: str = "") -> pb.Definition:
        request = pb.GetDefinitionRequest(kind=_definition_kind(kind), name=name, version=version)
        return await self._call("definitions.Get", request, pb.Definition)

    async def list(self, kind: str | None = None) -> list[pb.Definition]:
        """Every definition of a kind (all pages)."""
        found: list[pb.Definition] = []
        token = ""
        while True:
            request = pb.ListDefinitionsRequest(
                kind=_definition_kind(kind) if kind else pb.DEFINITION_KIND_UNSPECIFIED,
                page_token=token,
            )
            page = await self._call("definitions.List", request, pb.ListDefinitionsResponse)
            found.extend(page.definitions)
            token = page.next_page_token
            if not token:
                return found

    async def delete(self, kind: str, name: str) -> None:
        request = pb.DeleteDefinitionRequest(kind=_definition_kind(kind), name=name)
        await self._call("definitions.Delete", request, pb.DeleteDefinitionResponse)

    # ------------------------------------------------------------- executions

    async def run_agent(
        self,
        agent: str,
        message: str,
        *,
        env: dict[str, str] | None = None,
        deadline: timedelta | None = None,
        idempotency_key: str = "",
        parent_execution_id: str = "",
        callback: pb.CallbackRef | None = None,
    ) -> pb.CreateExecutionResponse:
        """Create an AgentExecution; with `callback`, its end completes that caller."""
        call = pb.AgentCall(agent=agent, message=message, env=env or {})
        if deadline is not None:
            call.deadline.FromTimedelta(deadline)
        spec = pb.ExecutionSpec(
            kind=pb.AGENT_EXECUTION,
            agent=call,
            idempotency_key=idempotency_key,
            parent_execution_id=parent_execution_id,
        )
        return await self.create(spec, callback)

    async def run_workflow(
        self,
        workflow: str = "",
        *,
        document: dict[str, Any] | None = None,
        input: Any = None,
        deadline: timedelta | None = None,
        idempotency_key: str = "",
        parent_execution_id: str = "",
        callback: pb.CallbackRef | None = None,
    ) -> pb.CreateExecutionResponse:
        """Create a WorkflowExecution of an applied Workflow or of an inline DSL document."""
        run = pb.WorkflowRun(workflow=workflow)
        if document is not None:
            run.document.update(document)
        if input is not None:
            from google.protobuf import json_format  # not loaded for commands that never run

            json_format.ParseDict(input, run.input)
        if deadline is not None:
            run.deadline.FromTimedelta(deadline)
        spec = pb.ExecutionSpec(
            kind=pb.WORKFLOW_EXECUTION,
            workflow=run,
            idempotency_key=idempotency_key,
            parent_execution_id=parent_execution_id,
        )
        return await self.create(spec, callback)

    async def create(
        self, spec: pb.ExecutionSpec, callback: pb.CallbackRef | None = None
    ) -> pb.CreateExecutionResponse:
        request = pb.CreateExecutionRequest(spec=spec, callback=callback)
        return await self._call("executions.Create", request, pb.CreateExecutionResponse)

    async def execution(self, execution_id: str) -> pb.Execution:
        return await self._call(
            "executions.Get", pb.GetExecutionRequest(id=execution_id), pb.Execution
        )

    async def list_executions(
        self,
        *,
        kind: str | None = None,
        phases: Sequence[str] = (),
        target: str = "",
        parent_execution_id: str = "",
        idempotency_key: str = "",
        page_size: int = 0,
        page_token: str = "",
    ) -> pb.ListExecutionsResponse:
        request = pb.ListExecutionsRequest(
            kind=pb.ExecutionKind.Value(kind) if kind else pb.EXECUTION_KIND_UNSPECIFIED,
            phases=[pb.Phase.Value(phase) for phase in phases],
            target=target,
            parent_execution_id=parent_execution_id,
            idempotency_key=idempotency_key,
            page_size=page_size,
            page_token=page_token,
        )
        return await self._call("executions.List", request, pb.ListExecutionsResponse)

    async def watch(
        self, execution_id: str, after_revision: int = 0
    ) -> AsyncIterator[pb.Execution]:
        """Each change of the execution until it has finished and its caller was told.

        A stream cut off (its API replica stopped) goes on from the last revision seen at
        the next address, once per address; with one address the cut is raised."""
        seen = after_revision
        endpoints = self.in_turn()
        for index, endpoint in enumerate(endpoints):
            stream = endpoint.executions.Watch(
                pb.WatchExecutionRequest(id=execution_id, after_revision=seen),
                metadata=self._metadata,
            )
            try:
                async for execution in stream:
                    seen = execution.revision
                    yield execution
                return
            except grpc.aio.AioRpcError as exc:
                last = index == len(endpoints) - 1
                if last or exc.code() != grpc.StatusCode.UNAVAILABLE:
                    raise translated(exc, endpoint.address) from exc
            finally:
                stream.cancel()  # a watcher that stops early hangs up at once

    async def wait(self, execution_id: str) -> pb.Execution:
        """The execution once it has finished."""
        last: pb.Execution | None = None
        async for last in self.watch(execution_id):  # noqa: B007
            pass
        assert last is not None
        return last

    async def cancel(
        self, execution_id: str, reason: str = "", *, operator: str = ""
    ) -> pb.Execution:
        request = pb.CancelExecutionRequest(id=execution_id, reason=reason, operator=operator)
        return await self._call("executions.Cancel", request, pb.Execution)

    async def result(self, execution_id: str) -> pb.ExecutionResult:
        return await self._call(
            "executions.GetResult", pb.GetResultRequest(id=execution_id), pb.ExecutionResult
        )

    async def complete(
        self, execution_id: str, output: str, *, operator: str = "", reason: str = ""
    ) -> pb.Execution:
        """Operators: finish a stuck execution as completed and tell its caller."""
        request = pb.CompleteExecutionRequest(
            id=execution_id, output=output, operator=operator, reason=reason
        )
        return await self._call("executions.Complete", request, pb.Execution)

    async def fail(self, execution_id: str, reason: str, *, operator: str = "") -> pb.Execution:
        """Operators: finish a stuck execution as failed and tell its caller."""
        request = pb.FailExecutionRequest(id=execution_id, reason=reason, operator=operator)
        return await self._call("executions.Fail", request, pb.Execution)

    async def list_stuck(self) -> pb.ListStuckResponse:
        return await self._call("executions.ListStuck", pb.ListStuckRequest(), pb.ListStuckResponse)

    # ------------------------------------------------------------------ events

    async def publish_event(
        self, event: dict[str, Any], execution_id: str = ""
    ) -> pb.PublishEventResponse:
        """Send a CloudEvent to every listening run, or to `execution_id` alone."""
        request = pb.PublishEventRequest(execution_id=execution_id)
        request.event.update(event)
        return await self._call("events.Publish", request, pb.PublishEventResponse)

    async def _call(self, method: str, request: Any, response: type[R]) -> R:
        """Call `method` ("service.Method") at the next address in turn, and at the next
        if no connection could be made; gRPC errors become ApiError / ApiUnreachable. A
        request over the API's message limit is refused here, without sending it."""
        size = request.ByteSize()
        if size > MAX_MESSAGE_BYTES:
            name = method.partition(".")[2]
            raise TooLarge(
                over_limit(f"the {name} request", size, MAX_MESSAGE_BYTES, MESSAGE_LIMIT)
            )
        endpoints = self.in_turn()
        for index, endpoint in enumerate(endpoints):
            try:
                result = await attrgetter(method)(endpoint)(
                    request,
                    metadata=self._metadata + outgoing_metadata(),
                    timeout=self.call_timeout,
                )
            except grpc.aio.AioRpcError as exc:
                error = translated(exc, endpoint.address)
                if isinstance(error, ApiUnreachable) and index < len(endpoints) - 1:
                    continue  # nothing was sent: the next address may take it
                raise error from exc
            assert isinstance(result, response)
            return result
        raise AssertionError("a client has at least one address")


class WorkerClient(Client):
    """The platform's own workers: every client method, plus `WorkerService`.

    It carries the worker credential (see `stigmer.credentials`); the API refuses the
    worker-only methods to anyone else.
    """

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerClient:
        from stigmer.credentials import worker_token

        return cls(
            settings.address,
            token=worker_token(settings),
            tls_ca=settings.tls_ca,
            tls=settings.tls,
            allow_plaintext=settings.allow_plaintext,
        )

    async def callback_token(self, execution_id: str) -> pb.CallbackToken:
        return await self._call(
            "workers.GetCallbackToken",
            pb.GetCallbackTokenRequest(id=execution_id),
            pb.CallbackToken,
        )

    async def begin(self, execution_id: str) -> pb.BeginResponse:
        return await self._call("workers.Begin", pb.BeginRequest(id=execution_id), pb.BeginResponse)

    async def report_progress(self, report: pb.ProgressReport) -> pb.ProgressAccepted:
        return await self._call("workers.ReportProgress", report, pb.ProgressAccepted)

    async def put_result(self, request: pb.PutResultRequest) -> pb.PutResultResponse:
        return await self._call("workers.PutResult", request, pb.PutResultResponse)

    async def record_ending(self, report: pb.EndingReport) -> pb.RecordEndingResponse:
        return await self._call("workers.RecordEnding", report, pb.RecordEndingResponse)

    async def record_callback(
        self, execution_id: str, state: pb.CallbackState | None, *, heartbeat: bool = False
    ) -> pb.Execution:
        report = pb.CallbackReport(id=execution_id, state=state, heartbeat=heartbeat)
        return await self._call("workers.RecordCallback", report, pb.Execution)

    async def cancel_call(self, spec: pb.ExecutionSpec, reason: str) -> pb.Execution:
        request = pb.CancelCallRequest(spec=spec, reason=reason)
        return await self._call("workers.CancelCall", request, pb.Execution)

    async def subscribe(self, workflow_id: str, key: str) -> None:
        subscription = pb.Subscription(workflow_id=workflow_id, key=key)
        await self._call("workers.Subscribe", subscription, pb.SubscriptionResponse)

    async def unsubscribe(self, workflow_id: str, key: str) -> None:
        subscription = pb.Subscription(workflow_id=workflow_id, key=key)
        await self._call("workers.Unsubscribe", subscription, pb.SubscriptionResponse)


def _definition_kind(kind: str) -> pb.DefinitionKind.ValueType:
    try:
        return DEFINITION_KINDS[kind.lower()]
    except KeyError:
        raise ValueError(f"unknown kind {kind!r}; expected agent or workflow") from None


def _loopback(host: str) -> bool:
    """Whether `host` is this machine; the settings load only when a token asks."""
    from stigmer.config import is_loopback

    return is_loopback(host)
