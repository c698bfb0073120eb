"""The API server: the gRPC services over the store, with health, reflection and access."""

from __future__ import annotations

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.api.v1 import stigmer_pb2_grpc as pb_grpc
from stigmer.config import Settings
from stigmer.observability.collector import StateCollector
from stigmer.observability.interceptor import ApiMetricsInterceptor
from stigmer.server.auth import BearerTokenInterceptor
from stigmer.server.definitions import DefinitionService
from stigmer.server.events import EventService
from stigmer.server.executions import ExecutionService
from stigmer.server.launcher import Launcher
from stigmer.server.schedules import Schedules
from stigmer.store.store import Store

log = structlog.get_logger("stigmer.server")

SERVICES = (
    pb.DESCRIPTOR.services_by_name["DefinitionService"].full_name,
    pb.DESCRIPTOR.services_by_name["ExecutionService"].full_name,
    pb.DESCRIPTOR.services_by_name["EventService"].full_name,
)
GRACE_SECONDS = 5.0


class AccessError(RuntimeError):
    """The API would be reachable by others without protection."""


def check_access(settings: Settings) -> None:
    if settings.binds_loopback_only:
        return
    if settings.api_token is None:
        raise AccessError(
            f"the API would listen on {settings.host}, beyond this machine, without a token: "
            "set STIGMER_API_TOKEN (or --token), or bind to 127.0.0.1"
        )
    if (settings.tls_cert is None) != (settings.tls_key is None):
        raise AccessError("TLS needs both --tls-cert and --tls-key")


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

    def summary(self) -> list[tuple[str, str]]:
        scheme = "grpcs" if self.settings.tls_cert else "grpc"
        return [("API", f"{scheme}://{self.settings.api_bind}")]

    async def start(self) -> None:
        self.store = await Store.open(self.settings.resolved_database_url)
        interceptors: list[grpc.aio.ServerInterceptor] = [ApiMetricsInterceptor()]  # type: ignore[type-arg]
        if self.settings.api_token is not None:
            interceptors.append(BearerTokenInterceptor(self.settings.api_token.get_secret_value()))
        server = grpc.aio.server(interceptors=interceptors)
        pb_grpc.add_DefinitionServiceServicer_to_server(
            DefinitionService(self.store, Schedules(self.launcher, self.settings)), server
        )
        pb_grpc.add_ExecutionServiceServicer_to_server(
            ExecutionService(self.store, self.launcher, self.settings), server
        )
        pb_grpc.add_EventServiceServicer_to_server(EventService(self.store, self.launcher), server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        reflection.enable_server_reflection(
            (*SERVICES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
        )
        if self.settings.tls_cert and self.settings.tls_key:
            credentials = grpc.ssl_server_credentials(
                [(self.settings.tls_key.read_bytes(), self.settings.tls_cert.read_bytes())]
            )
            server.add_secure_port(self.settings.api_bind, credentials)
        else:
            server.add_insecure_port(self.settings.api_bind)
        await server.start()
        self.server = server
        for service in (*SERVICES, ""):
            await self.health.set(service, health_pb2.HealthCheckResponse.SERVING)
        self.collector = StateCollector(self.store, self.settings, self.launcher.client)
        self.collector.start()
        log.info("api listening", address=self.settings.api_bind)

    async def stop(self) -> None:
        if self.collector is not None:
            await self.collector.stop()
            self.collector = None
        if self.server is not None:
            await self.health.enter_graceful_shutdown()
            await self.server.stop(GRACE_SECONDS)
            self.server = None
        if self.store is not None:
            await self.store.close()
            self.store = None
