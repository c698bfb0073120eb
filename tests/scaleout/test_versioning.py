"""Workers run as a Temporal Worker Deployment version, as a release with changed workflow
code is rolled out: Temporal sees the version, and once it is made current the versioned
workers run calls end to end."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from temporalio.api.workflowservice.v1 import (
    DescribeWorkerDeploymentRequest,
    SetWorkerDeploymentCurrentVersionRequest,
)
from temporalio.client import Client as TemporalClient
from temporalio.service import RPCError

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.config import load_settings
from stigmer.local.embedded import EmbeddedTemporal
from stigmer.temporal import connect_temporal
from stigmer.workers import VersioningError, Workers
from tests.conftest import running_platform
from tests.handshake.helpers import SCRIPTED, agent_task, document, output_of, script

pytestmark = pytest.mark.timeout(120)


async def test_versioned_workers_run_calls_once_their_version_is_current(
    temporal_server: EmbeddedTemporal, tmp_path: Path
) -> None:
    name, build = f"stigmer-{uuid.uuid4().hex[:8]}", "release-2"
    async with running_platform(
        temporal_server, tmp_path / "data", worker_deployment=name, worker_build_id=build
    ) as platform:
        temporal = await connect_temporal(platform.settings)
        await make_current(temporal, name, build)
        await platform.client.apply("agent", "scripted", SCRIPTED)
        created = await platform.client.run_workflow(
            document=document(agent_task("ask", script(output="versioned")))
        )
        ended = await asyncio.wait_for(platform.client.wait(created.execution.id), 60)
        assert ended.status.phase == pb.COMPLETED
        assert output_of(ended)["output"] == "versioned"


async def make_current(temporal: TemporalClient, name: str, build: str) -> None:
    """Once the workers have registered the version (their first polls), make it current."""
    for _ in range(100):
        try:
            described = await temporal.workflow_service.describe_worker_deployment(
                DescribeWorkerDeploymentRequest(namespace="default", deployment_name=name)
            )
        except RPCError:
            described = None
        builds = {
            summary.deployment_version.build_id
            for summary in (described.worker_deployment_info.version_summaries if described else [])
        }
        if build in builds:
            await temporal.workflow_service.set_worker_deployment_current_version(
                SetWorkerDeploymentCurrentVersionRequest(
                    namespace="default", deployment_name=name, build_id=build
                )
            )
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"Temporal never saw {name} version {build}")


def test_half_configured_versioning_is_refused_naming_both_settings(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, worker_build_id="release-2")
    with pytest.raises(VersioningError, match=r"--worker-deployment .* --worker-build-id"):
        Workers(settings, ["engine"])
