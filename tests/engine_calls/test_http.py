"""`call: http` against the loopback petstore stand-in."""

from __future__ import annotations

import base64

import pytest

from tests.support.engine import Engine, document

pytestmark = pytest.mark.temporal

COMMUNICATION = "https://serverlessworkflow.io/spec/1.0.0/errors/communication"


async def test_response_output(engine: Engine, petstore: str) -> None:
    flow = document(
        f"""
  - getPet:
      call: http
      with:
        method: get
        endpoint:
          uri: {petstore}/v2/pet/{{petId}}
        output: response
"""
    )
    output = await engine.run(flow, {"petId": 2})
    assert output["statusCode"] == 200
    assert output["request"]["method"] == "get"
    assert output["request"]["uri"] == f"{petstore}/v2/pet/2"
    assert isinstance(output["request"]["headers"], dict)
    assert output["headers"]["content-type"] == "application/json"
    assert output["content"]["name"] == "garfield"


async def test_raw_output_is_base64(engine: Engine, petstore: str) -> None:
    flow = document(
        f"""
  - getPet:
      call: http
      with: {{method: get, endpoint: "{petstore}/v2/pet/1", output: raw}}
"""
    )
    output = await engine.run(flow)
    assert base64.b64decode(output).startswith(b'{"id": 1')


async def test_method_headers_query_and_json_body(engine: Engine, petstore: str) -> None:
    flow = document(
        f"""
  - send:
      call: http
      with:
        method: post
        endpoint: ${{ "{petstore}/anything/" + .kind }}
        headers:
          x-trace: ${{ .trace }}
        query:
          page: "2"
          q: ${{ .q }}
        body:
          pet: ${{ .pet }}
"""
    )
    output = await engine.run(
        flow, {"kind": "pets", "trace": "t-1", "q": "a b", "pet": {"name": "rex"}}
    )
    assert output["method"] == "POST"
    assert output["path"] == "/anything/pets"
    assert output["args"] == {"page": "2", "q": "a b"}
    assert output["headers"]["x-trace"] == "t-1"
    assert output["headers"]["content-type"] == "application/json"
    assert output["json"] == {"pet": {"name": "rex"}}


async def test_a_failed_status_is_a_communication_error_try_catch_can_match(
    engine: Engine, petstore: str
) -> None:
    failing = document(
        f"""
  - getPet:
      call: http
      with: {{method: get, endpoint: "{petstore}/v2/pet/{{petId}}"}}
"""
    )
    error = await engine.fault(failing, {"petId": 99})
    assert error["type"] == COMMUNICATION
    assert error["status"] == 404
    assert error["instance"] == "/do/0/getPet"
    assert error["title"] == "Not Found"
    assert "Pet not found" in error["detail"]

    caught = document(
        f"""
  - guarded:
      try:
        - getPet:
            call: http
            with: {{method: get, endpoint: "{petstore}/status/503"}}
      catch:
        errors:
          with: {{type: {COMMUNICATION}, status: 503}}
        as: failure
        do:
          - report:
              set: {{caught: "${{ $failure.status }}"}}
"""
    )
    assert await engine.run(caught) == {"caught": 503}


async def test_redirects_are_errors_unless_followed(engine: Engine, petstore: str) -> None:
    def flow(redirect: bool) -> str:
        return document(
            f"""
  - hop:
      call: http
      with: {{method: get, endpoint: "{petstore}/redirect/1", redirect: {str(redirect).lower()}}}
"""
        )

    error = await engine.fault(flow(False))
    assert (error["type"], error["status"]) == (COMMUNICATION, 302)
    assert (await engine.run(flow(True)))["path"] == "/anything/redirected"


async def test_an_unreachable_server_is_a_communication_error(engine: Engine) -> None:
    flow = document(
        """
  - call:
      call: http
      with: {method: get, endpoint: "http://127.0.0.1:9/nothing"}
"""
    )
    error = await engine.fault(flow)
    assert (error["type"], error["status"], error["instance"]) == (
        COMMUNICATION,
        503,
        "/do/0/call",
    )


async def test_a_uri_template_variable_must_be_a_scalar(engine: Engine, petstore: str) -> None:
    flow = document(
        f"""
  - getPet:
      call: http
      with: {{method: get, endpoint: "{petstore}/v2/pet/{{petId}}"}}
"""
    )
    error = await engine.fault(flow, {"petId": {"id": 1}})
    assert error["type"] == "https://serverlessworkflow.io/spec/1.0.0/errors/expression"
    assert error["status"] == 400
