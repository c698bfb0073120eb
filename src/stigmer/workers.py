"""Temporal workers for the three task queues, as one platform component.

`stigmer server` runs all three; `stigmer worker --queue Q` runs one, so each queue can
be scaled out on its own machines. Workers reach the API with the worker credential, at
one address or several (see `stigmer.client`). Given a worker deployment and a build id,
they run as that Temporal Worker Deployment version, so a release with changed workflow
code rolls out beside the one before it (docs/deploy.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import structlog
from temporalio.client import Client as TemporalClient
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.worker import PollerBehaviorSimpleMaximum, Worker, WorkerDeploymentConfig
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from stigmer.agents.runner import RunnerActivities
from stigmer.agents.workflow import AgentExecutionWorkflow
from stigmer.client import WorkerClient
from stigmer.config import Settings, task_queue
from stigmer.engine import registry
from stigmer.engine.progress import ProgressActivities
from stigmer.engine.scheduling import ScheduledRunWorkflow
from stigmer.engine.tasktype import Services
from stigmer.engine.workflow import WorkflowExecution
from stigmer.handshake.system_activities import SystemActivities
from stigmer.permissions import Permissions
from stigmer.sealing.guard import SealGuard
from stigmer.secrets import SecretStore
from stigmer.temporal import connect_temporal

log = structlog.get_logger("stigmer.workers")

PASSTHROUGH = ("stigmer", "grpc", "google.protobuf", "jq", "structlog", "pydantic")
"""Modules workflow code may share with the worker: deterministic or only used by activities."""


def sandbox() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    )


BEHAVIORS = {"pinned": VersioningBehavior.PINNED, "auto-upgrade": VersioningBehavior.AUTO_UPGRADE}


class VersioningError(ValueError):
    """Worker versioning is half configured."""


def deployment(settings: Settings) -> WorkerDeploymentConfig | None:
    """The Worker Deployment version the workers run as; None: unversioned."""
    if settings.worker_deployment is None and settings.worker_build_id is None:
        return None
    if not settings.worker_deployment or not settings.worker_build_id:
        raise VersioningError(
            "worker versioning needs both --worker-deployment (STIGMER_WORKER_DEPLOYMENT) "
            "and --worker-build-id (STIGMER_WORKER_BUILD_ID); only one is set"
        )
    return WorkerDeploymentConfig(
        version=WorkerDeploymentVersion(settings.worker_deployment, settings.worker_build_id),
        use_worker_versioning=True,
        default_versioning_behavior=BEHAVIORS[settings.worker_versioning],
    )


def workflow_polling(settings: Settings) -> dict[str, Any]:
    """How a worker of workflows polls and caches: `workflow_pollers` split evenly
    between new runs and cached ones (the SDK gives new runs one poll of five), and
    `workflow_cache` runs kept."""
    return {
        "workflow_task_poller_behavior": PollerBehaviorSimpleMaximum(settings.workflow_pollers),
        "nonsticky_to_sticky_poll_ratio": 0.5,
        "max_cached_workflows": settings.workflow_cache,
    }


def build_worker(
    queue: str, temporal: TemporalClient, api: WorkerClient, settings: Settings
) -> Worker:
    """The worker of one queue (`engine`, `agents` or `runner`) of the platform `settings`
    describe: its queue prefix, its slots, its call activities' secrets and processes."""
    name = task_queue(queue, settings.queue_prefix)
    versioned = deployment(settings)
    # Execution workflows (agent and workflow runs alike) begin, finish and deliver
    # their callback in local activities, so each worker that runs them has these.
    system = SystemActivities(api, temporal)
    lifecycle: list[Callable[..., Any]] = [
        system.begin,
        system.finish,
        system.deliver_callback,
    ]
    if queue == "engine":
        # The activities of every task type, from the engine's registry of them.
        return Worker(
            temporal,
            task_queue=name,
            workflows=[WorkflowExecution, ScheduledRunWorkflow],
            activities=[
                ProgressActivities(api).record,
                *registry.activities(Services(settings, api)).values(),
                *lifecycle,
            ],
            max_concurrent_activities=settings.engine_max_activities,
            workflow_runner=sandbox(),
            interceptors=[SealGuard()],
            deployment_config=versioned,
            **workflow_polling(settings),
        )
    if queue == "agents":
        return Worker(
            temporal,
            task_queue=name,
            workflows=[AgentExecutionWorkflow],
            activities=[*lifecycle, system.heartbeat_caller],
            workflow_runner=sandbox(),
            interceptors=[SealGuard()],
            deployment_config=versioned,
            **workflow_polling(settings),
        )
    runner = RunnerActivities(
        api,
        settings.result_size_budget,
        SecretStore(settings.data_dir),
        Permissions.of(settings),
    )
    return Worker(
        temporal,
        task_queue=name,
        activities=[runner.run_agent],
        max_concurrent_activities=settings.runner_max_activities,
        interceptors=[SealGuard()],
        deployment_config=versioned,
    )


SHUTDOWN_GRACE = 30.0
"""Seconds a stopping worker is given to finish its activities and end its polls."""


class Workers:
    """A platform component running the workers of the given queues in this process."""

    name = "workers"

    def __init__(self, settings: Settings, queues: Sequence[str]) -> None:
        for queue in queues:
            task_queue(queue)  # refuses an unknown kind
        deployment(settings)  # refuses half-configured versioning before anything starts
        self.settings = settings
        self.queues = list(queues)
        self.api: WorkerClient | None = None
        self.workers: list[Worker] = []
        self.tasks: list[asyncio.Task[Any]] = []

    def summary(self) -> Sequence[tuple[str, str]]:
        return [("Workers", ", ".join(self.names))]

    @property
    def names(self) -> list[str]:
        return [task_queue(q, self.settings.queue_prefix) for q in self.queues]

    async def start(self) -> None:
        temporal = await connect_temporal(self.settings)
        self.api = WorkerClient.from_settings(self.settings)
        for queue in self.queues:
            worker = build_worker(queue, temporal, self.api, self.settings)
            self.workers.append(worker)
            self.tasks.append(asyncio.create_task(worker.run(), name=f"worker-{queue}"))
        log.info("workers polling", queues=self.names)

    async def stop(self) -> None:
        """Shut the workers down, waiting for their activities at most `SHUTDOWN_GRACE`:
        a poll the SDK never sees end (a shutdown race in Temporal's worker core) must
        not hold the process forever; the calls of a worker stopped anyway are retried
        by Temporal elsewhere."""
        stopping = asyncio.gather(
            *(worker.shutdown() for worker in self.workers), return_exceptions=True
        )
        try:
            await asyncio.wait_for(stopping, SHUTDOWN_GRACE)
        except TimeoutError:
            log.warning(
                "workers did not shut down in time; stopping them anyway",
                queues=self.names,
                seconds=SHUTDOWN_GRACE,
            )
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.workers.clear()
        self.tasks.clear()
        if self.api is not None:
            await self.api.close()
            self.api = None
