"""`use.secrets` and `$secrets`: resolved in activities, never in the workflow history,
and redacted (`***`) from whatever a call records, wherever its request used them."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from stigmer.contract.inputs import WorkflowRunInput
from stigmer.engine.validation import parse_workflow
from tests.support.document_only import DOCUMENT_ONLY
from tests.support.echo import running_echo
from tests.support.engine import Engine, document
from tests.support.leaks import history_bytes, leaked

pytestmark = pytest.mark.temporal

AUTHORIZATION = "https://serverlessworkflow.io/spec/1.0.0/errors/authorization"
COMMUNICATION = "https://serverlessworkflow.io/spec/1.0.0/errors/communication"
RUNTIME = "https://serverlessworkflow.io/spec/1.0.0/errors/runtime"
API_KEY = "sk-Live/Secret+42 =&x"
"""A secret whose every encoding differs: it shows whether each form is redacted."""


@pytest.fixture(scope="module", autouse=True)
def secrets_file(engine: Engine) -> None:
    (engine.data_dir / "secrets.yaml").write_text(
        "login: {username: serverless-workflow, password: file-password-123}\n"
        "petstore-token: file-token-456\n"
        f"api-key: {json.dumps(API_KEY)}\n"
        "port: 80x-secret-port\n"
    )


@pytest.fixture(scope="module")
def echo() -> Iterator[str]:
    with running_echo() as base:
        yield base


async def run_recorded(engine: Engine, flow: str) -> tuple[Any, dict[str, Any] | None, bytes]:
    """The output (or the error) of a run, and its whole history as bytes."""
    handle = await engine.client.start_workflow(
        DOCUMENT_ONLY,
        WorkflowRunInput(f"test-{uuid.uuid4()}", parse_workflow(flow), {}),
        id=f"calls-{uuid.uuid4()}",
        task_queue=engine.queue,
    )
    output: Any = None
    error: dict[str, Any] | None = None
    try:
        output = await handle.result()
    except Exception as failure:
        cause = failure.__cause__
        details = getattr(cause, "details", None)
        assert details, failure
        error = details[0]
    return output, error, history_bytes(await handle.fetch_history())


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
          uri: {petstore}/anything/login
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
    output, error, history = await run_recorded(engine, flow)
    assert error is None and output["name"] == "milou"
    assert leaked("file-password-123", {"history": history}) == []
    assert leaked("file-token-456", {"history": history}) == []


async def test_an_environment_secret_wins_over_the_file(
    engine: Engine, petstore: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stand-in accepts only the password in its path: the file's is refused (401)."""
    flow = document(
        f"""
  - login:
      call: http
      with:
        method: get
        endpoint:
          uri: {petstore}/basic-auth/serverless-workflow/env-password-789
          authentication:
            basic: {{use: login}}
""",
        use="  secrets: [login]",
    )
    assert (await engine.fault(flow))["status"] == 401
    monkeypatch.setenv(
        "STIGMER_SECRET_LOGIN",
        json.dumps({"username": "serverless-workflow", "password": "env-password-789"}),
    )
    # Every value of a secret object is redacted, the user name included.
    assert await engine.run(flow) == {"authenticated": True, "user": "***"}


def _everywhere(echo: str, status: int, output: str = "response") -> str:
    """A request with the secret in its path, query, headers (as it is, and made into
    something else by an expression) and body."""
    return document(
        f"""
  - send:
      call: http
      with:
        method: post
        endpoint: ${{ "{echo}/{status}/items/" + $secrets["api-key"] }}
        headers:
          x-api-key: ${{ $secrets["api-key"] }}
          x-derived: ${{ $secrets["api-key"] | @base64 }}
        query:
          key: ${{ $secrets["api-key"] }}
        body:
          token: ${{ $secrets["api-key"] }}
        output: {output}
""",
        use="  secrets: [api-key]",
    )


async def test_a_secret_is_redacted_from_a_successful_calls_output(
    engine: Engine, echo: str
) -> None:
    output, error, history = await run_recorded(engine, _everywhere(echo, 200))
    assert error is None
    assert output["statusCode"] == 200
    assert output["request"]["uri"] == f"{echo}/200/items/***?key=***"
    assert output["request"]["headers"]["x-api-key"] == "***"
    echoed = output["content"]
    assert echoed["path"] == "/200/items/***"
    assert echoed["query"] == {"key": ["***"]}
    assert echoed["headers"]["x-api-key"] == "***"
    assert echoed["headers"]["x-derived"] == "***"
    assert json.loads(echoed["body"]) == {"token": "***"}
    record = json.dumps(output).encode()
    assert leaked(API_KEY, {"output": record, "history": history}) == []
    derived = base64.b64encode(API_KEY.encode()).decode()
    assert leaked(derived, {"output": record, "history": history}) == []


async def test_what_a_request_derives_from_a_secret_is_redacted_too(
    engine: Engine, echo: str
) -> None:
    """A secret in a URL's user part: httpx sends it as a Basic header, which the echo
    answers with; the same header built in jq, and a base64 of text around the secret."""
    host = echo.removeprefix("http://")
    flow = document(
        f"""
  - send:
      call: http
      with:
        method: post
        endpoint: ${{ "http://u:" + ($secrets["api-key"] | @uri) + "@{host}/200/p" }}
        headers:
          x-basic: ${{ "Basic " + ("u:" + $secrets["api-key"] | @base64) }}
        body:
          wrapped: ${{ "key=" + $secrets["api-key"] + ";" | @base64 }}
        output: response
""",
        use="  secrets: [api-key]",
    )
    output, error, history = await run_recorded(engine, flow)
    assert error is None, error
    echoed = output["content"]
    assert echoed["headers"]["authorization"] == "Basic dT***="  # "u", and the padding
    assert echoed["headers"]["x-basic"] == echoed["headers"]["authorization"]
    assert output["request"]["uri"] == f"http://u:***@{host}/200/p"
    assert json.loads(echoed["body"])["wrapped"].startswith("a2V5")  # "key" is kept
    record = json.dumps(output).encode()
    assert leaked(API_KEY, {"output": record, "history": history}) == []
    header = base64.b64encode(f"u:{API_KEY}".encode()).decode()
    assert leaked(header, {"output": record, "history": history}) == []


async def test_a_secret_is_redacted_from_a_failed_calls_error(engine: Engine, echo: str) -> None:
    output, error, history = await run_recorded(engine, _everywhere(echo, 401))
    assert output is None and error is not None
    assert (error["type"], error["status"]) == (COMMUNICATION, 401)
    assert error["detail"].startswith(f"POST {echo}/401/items/***?key=*** answered 401: ")
    assert '"x-api-key": "***"' in error["detail"]
    record = json.dumps(error).encode()
    assert leaked(API_KEY, {"error": record, "history": history}) == []


async def test_a_raw_body_is_redacted_before_it_is_encoded(engine: Engine, echo: str) -> None:
    output, error, history = await run_recorded(engine, _everywhere(echo, 200, "raw"))
    assert error is None
    body = json.loads(base64.b64decode(output))
    assert body["query"] == {"key": ["***"]}
    assert leaked(API_KEY, {"output": output.encode(), "history": history}) == []


async def test_an_unexpected_error_is_redacted_too(engine: Engine) -> None:
    """httpx refuses the port as an invalid URL, quoting it: not a fault the call raised."""
    flow = document(
        """
  - send:
      call: http
      with:
        method: get
        endpoint: ${ "http://127.0.0.1:" + $secrets.port + "/x" }
""",
        use="  secrets: [port]",
    )
    output, error, history = await run_recorded(engine, flow)
    assert output is None and error is not None
    assert error["type"] == RUNTIME
    assert error["detail"] == "InvalidURL: Invalid port: '***'"
    assert leaked("80x-secret-port", {"error": json.dumps(error), "history": history}) == []


async def test_a_missing_secret_is_an_authorization_error(engine: Engine, petstore: str) -> None:
    flow = _bearer(petstore, "${ $secrets.nowhere }", secrets="[nowhere]")
    error = await engine.fault(flow)
    assert (error["type"], error["status"], error["instance"]) == (
        AUTHORIZATION,
        403,
        "/do/0/getPet",
    )
    assert "STIGMER_SECRET_NOWHERE" in error["detail"]
