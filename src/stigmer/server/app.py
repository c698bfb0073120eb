"""The API server: the gRPC services over the store, with health, reflection and access.

On PostgreSQL any number of replicas share the store: each hears the others' changes
(`ChangeListener`) and one of them leads the once-only work (`Leadership`). On SQLite
one process owns the file: a second server against it refuses to start.
"""

from __future__ import annotations

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.api.v1 import stigmer_pb2_grpc as pb_grpc
from stigmer.config import Settings
from stigmer.contract.limits import MAX_MESSAGE_BYTES
from stigmer.credentials import payload_keyring, worker_token
from stigmer.local.preflight import ProcessLock
from stigmer.observability.interceptor import ApiMetricsInterceptor
from stigmer.server.access import Access, AccessInterceptor
from stigmer.server.callbacks import Callbacks
from stigmer.server.changes import Changes
from stigmer.server.collector import StateCollector
from stigmer.server.creation import Creation
from stigmer.server.definitions import DefinitionService
from stigmer.server.events import EventService
from stigmer.server.executions import ExecutionService
from stigmer.server.launcher import Launcher
from stigmer.server.operators import Operators
from stigmer.server.reconciler import Reconciler
from stigmer.server.recorder import Recorder
from stigmer.server.schedules import Schedules
from stigmer.server.worker_service import WorkerService
from stigmer.store.database import sqlite_file
from stigmer.store.dedicated import is_postgresql
from stigmer.store.leadership import Leadership
from stigmer.store.notify import ChangeListener
from stigmer.store.store import Store

log = structlog.get_logger("stigmer.server")

SERVICES = tuple(
    pb.DESCRIPTOR.services_by_name[name].full_name
    for name in ("DefinitionService", "ExecutionService", "EventService", "WorkerService")
)
GRACE_SECONDS = 5.0


class AccessError(RuntimeError):
    """The API would be reachable by others without protection."""


def check_access(settings: Settings) -> None:
    """Beyond loopback the API needs a user token, and TLS unless plaintext is chosen."""
    if settings.binds_loopback_only:
        return
    if settings.api_token is None:
        raise AccessError(
            f"the API would listen on {settings.host}, beyond this machine, without a token: "
            "set STIGMER_API_TOKEN (or --token) to a non-empty secret, or bind to 127.0.0.1"
        )
    if (settings.tls_cert is None) != (settings.tls_key is None):
        raise AccessError("TLS needs both --tls-cert and --tls-key")
    if settings.tls_cert is None and not settings.allow_plaintext:
        raise AccessError(
            f"the API would serve plaintext on {settings.host}, beyond this machine: give "
            "--tls-cert and --tls-key, or --allow-plaintext (STIGMER_ALLOW_PLAINTEXT=true) "
            "on a network you trust"
        )


class ApiServer:
    """A platform component: `start()` listens, `stop()` drains and closes."""

    name = "API"

    def __init__(self, settings: Settings) -> None:
        check_access(settings)
        self.settings = settings
        self.store: Store | None = None
        self.server: grpc.aio.Server | None = None
        self.health = health.aio.HealthServicer()  # type: ignore[attr-defined]
        self.launcher = Launcher(settings)
        self.collector: StateCollector | None = None
        self.reconciler: Reconciler | None = None
        self.sole_process: ProcessLock | None = None
        self.listener: ChangeListener | None = None
        self.leadership: Leadership | None = None

    def summary(self) -> list[tuple[str, str]]:
        scheme = "grpcs" if self.settings.tls_cert else "grpc"
        return [("API", f"{scheme}://{self.settings.api_bind}")]

    async def start(self) -> None:
        settings = self.settings
        # The payload keys first: a worker that finds the credential finds them too.
        payload_keyring(settings, create=True)
        access = Access(
            settings.api_token.get_secret_value() if settings.api_token else None,
            worker_token(settings, create=True),
        )
        url = settings.resolved_database_url
        self._own_sqlite_file(url)
        self.store = store = await Store.open(url)
        changes = Changes()
        if is_postgresql(url):
            self.listener = ChangeListener(url, changes.notify, changes.wake_all)
            await self.listener.start()
        self.leadership = leadership = Leadership(url)
        recorder = Recorder(store, changes)
        callbacks = Callbacks(store, self.launcher, recorder)
        self.reconciler = reconciler = Reconciler(
            store, self.launcher, recorder, callbacks, settings, leadership
        )
        operators = Operators(store, self.launcher, settings, recorder, callbacks, reconciler)
        creation = Creation(store, self.launcher, settings, recorder, callbacks, reconciler)
        server = grpc.aio.server(
            interceptors=[ApiMetricsInterceptor(), AccessInterceptor(access)],
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ],
        )
        pb_grpc.add_DefinitionServiceServicer_to_server(
            DefinitionService(store, Schedules(self.launcher, settings, store.db)), server
        )
        pb_grpc.add_ExecutionServiceServicer_to_server(
            ExecutionService(store, settings, access, changes, creation, operators), server
        )
        pb_grpc.add_WorkerServiceServicer_to_server(
            WorkerService(store, recorder, operators, settings), server
        )
        pb_grpc.add_EventServiceServicer_to_server(EventService(store, self.launcher), server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        reflection.enable_server_reflection(
            (*SERVICES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
        )
        if settings.tls_cert and settings.tls_key:
            credentials = grpc.ssl_server_credentials(
                [(settings.tls_key.read_bytes(), settings.tls_cert.read_bytes())]
            )
            server.add_secure_port(settings.api_bind, credentials)
        else:
            server.add_insecure_port(settings.api_bind)
        await server.start()
        self.server = server
        for service in (*SERVICES, ""):
            await self.health.set(service, health_pb2.HealthCheckResponse.SERVING)
        leadership.start()
        self.collector = StateCollector(store, settings, leadership, self.launcher.client)
        self.collector.start()
        reconciler.start()
        log.info("api listening", address=settings.api_bind)

    async def stop(self) -> None:
        if self.reconciler is not None:
            await self.reconciler.stop()
            self.reconciler = None
        if self.collector is not None:
            await self.collector.stop()
            self.collector = None
        if self.server is not None:
            await self.health.enter_graceful_shutdown()
            await self.server.stop(GRACE_SECONDS)
            self.server = None
        if self.leadership is not None:
            await self.leadership.stop()
            self.leadership = None
        if self.listener is not None:
            await self.listener.stop()
            self.listener = None
        if self.store is not None:
            await self.store.close()
            self.store = None
        if self.sole_process is not None:
            self.sole_process.release()
            self.sole_process = None

    def _own_sqlite_file(self, url: str) -> None:
        """SQLite serves one process: a second server on the same file refuses to start."""
        file = sqlite_file(url)
        if file is None:
            return
        file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = ProcessLock(
            file.with_name(file.name + ".lock"),
            f"is using the SQLite store {file}; SQLite serves one server process: stop "
            "that one, or share a PostgreSQL database between replicas "
            "(STIGMER_DATABASE_URL=postgresql+asyncpg://...)",
        )
        lock.acquire()
        self.sole_process = lock
