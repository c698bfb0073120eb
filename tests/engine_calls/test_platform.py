"""The calls as `stigmer server` runs them: API and the workers of every queue."""

from __future__ import annotations

import pytest

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.contract.problems import PERMISSION
from stigmer.engine.validation import parse_workflow
from stigmer.resources.values import to_json
from tests.conftest import Platform
from tests.support.engine import document

pytestmark = pytest.mark.temporal


async def test_an_http_call_and_a_refused_shell_on_the_platform(
    platform: Platform, petstore: str
) -> None:
    flow = document(
        f"""
  - getPet:
      call: http
      with: {{method: get, endpoint: "{petstore}/v2/pet/{{petId}}"}}
      output: {{as: "${{ {{pet: .name}} }}"}}
"""
    )
    run = await platform.client.run_workflow(document=parse_workflow(flow), input={"petId": 3})
    done = await platform.client.wait(run.execution.id)
    assert done.status.phase == pb.COMPLETED, done.status.error
    assert to_json(done.status.structured) == {"pet": "rantanplan"}

    shell = document("  - hello:\n      run:\n        shell: {command: echo hi}\n")
    run = await platform.client.run_workflow(document=parse_workflow(shell))
    done = await platform.client.wait(run.execution.id)
    assert done.status.phase == pb.FAILED
    assert done.status.error.type == PERMISSION
    assert "STIGMER_ALLOW_PROCESSES=/bin/sh" in done.status.error.detail
    assert done.status.error.instance == "/do/0/hello"
