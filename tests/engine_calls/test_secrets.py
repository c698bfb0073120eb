"""`use.secrets` and `$secrets`: resolved in activities, never in the workflow history."""

from __future__ import annotations

import json
import uuid

import pytest

from stigmer.contract.inputs import WorkflowRunInput
from stigmer.engine.validation import parse_workflow
from tests.support.document_only import DOCUMENT_ONLY
from tests.support.engine import Engine, document

pytestmark = pytest.mark.temporal

AUTHORIZATION = "https://serverlessworkflow.io/spec/1.0.0/errors/authorization"


@pytest.fixture(scope="module", autouse=True)
def secrets_file(engine: Engine) -> None:
    (engine.data_dir / "secrets.yaml").write_text(
        "login: {username: serverless-workflow, password: file-password-123}\n"
        "petstore-token: file-token-456\n"
    )


def _bearer(petstore: str, token: str, secrets: str = "[petstore-token]") -> str:
    return document(
        f"""
  - getPet:
      call: http
      with:
        method: get
        endpoint:
          uri: {petstore}/anything/pets
          authentication:
            bearer: {{token: '{token}'}}
      output:
        as: .headers.authorization
""",
        use=f"  secrets: {secrets}",
    )


async def test_a_secret_from_the_file_never_enters_the_history(
    engine: Engine, petstore: str
) -> None:
    flow = document(
        f"""
  - login:
      call: http
      with:
        method: get
        endpoint:
          uri: {petstore}/basic-auth/serverless-workflow/file-password-123
          authentication:
            basic: {{use: login}}
  - search:
      call: http
      with:
        method: get
        endpoint: {petstore}/v2/pet/1
        headers:
          x-api-key: ${{ "key-" + $secrets["petstore-token"] }}
""",
        use="  secrets: [login, petstore-token]",
    )
    handle = await engine.client.start_workflow(
        DOCUMENT_ONLY,
        WorkflowRunInput(f"test-{uuid.uuid4()}", parse_workflow(flow), {}),
        id=f"calls-{uuid.uuid4()}",
        task_queue=engine.queue,
    )
    assert (await handle.result())["name"] == "milou"
    history = json.dumps((await handle.fetch_history()).to_json_dict())
    assert "file-password-123" not in history
    assert "file-token-456" not in history


async def test_an_environment_secret_wins_over_the_file(
    engine: Engine, petstore: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = _bearer(petstore, '${ $secrets["petstore-token"] }')
    assert await engine.run(flow) == "Bearer file-token-456"
    monkeypatch.setenv("STIGMER_SECRET_PETSTORE_TOKEN", "env-token-789")
    assert await engine.run(flow) == "Bearer env-token-789"


async def test_a_missing_secret_is_an_authorization_error(engine: Engine, petstore: str) -> None:
    flow = _bearer(petstore, "${ $secrets.nowhere }", secrets="[nowhere]")
    error = await engine.fault(flow)
    assert (error["type"], error["status"], error["instance"]) == (
        AUTHORIZATION,
        403,
        "/do/0/getPet",
    )
    assert "STIGMER_SECRET_NOWHERE" in error["detail"]
