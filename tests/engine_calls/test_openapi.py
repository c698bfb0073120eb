"""`call: openapi` with the stand-in's Swagger 2.0 document and a local OpenAPI 3 file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.engine import Engine, document

pytestmark = pytest.mark.temporal

COMMUNICATION = "https://serverlessworkflow.io/spec/1.0.0/errors/communication"


def _call(endpoint: str, operation: str, parameters: str, extra: str = "") -> str:
    return document(
        f"""
  - callOperation:
      call: openapi
      with:
        document:
          endpoint: "{endpoint}"
        operationId: {operation}
        parameters: {parameters}
{extra}"""
    )


async def test_content_output(engine: Engine, petstore: str) -> None:
    # The CTK's "Call OpenAPI With Content Output", pointed at the stand-in.
    flow = _call(f"{petstore}/v2/swagger.json", "findPetsByStatus", "{status: '${ .status }'}")
    output = await engine.run(flow, {"status": "available"})
    assert [pet["name"] for pet in output] == ["milou", "rantanplan"]


async def test_response_output_and_path_parameters(engine: Engine, petstore: str) -> None:
    # The CTK's "Call OpenAPI With Response Output", pointed at the stand-in.
    flow = _call(
        f"{petstore}/v2/swagger.json",
        "getPetById",
        "{petId: '${ .petId }'}",
        "        output: response\n",
    )
    output = await engine.run(flow, {"petId": 1})
    assert output["statusCode"] == 200
    assert output["request"]["uri"] == f"{petstore}/v2/pet/1"
    assert output["request"]["method"] == "get"
    assert output["content"]["name"] == "milou"


async def test_a_body_parameter(engine: Engine, petstore: str) -> None:
    flow = _call(f"{petstore}/v2/swagger.json", "addPet", "{body: {name: rex, status: sold}}")
    assert await engine.run(flow) == {"id": 100, "name": "rex", "status": "sold"}


async def test_an_error_status_and_a_missing_required_parameter(
    engine: Engine, petstore: str
) -> None:
    missing = _call(f"{petstore}/v2/swagger.json", "getPetById", "{petId: 42}")
    error = await engine.fault(missing)
    assert (error["type"], error["status"], error["instance"]) == (
        COMMUNICATION,
        404,
        "/do/0/callOperation",
    )
    unset = _call(f"{petstore}/v2/swagger.json", "getPetById", "{}")
    error = await engine.fault(unset)
    assert error["type"] == "https://serverlessworkflow.io/spec/1.0.0/errors/validation"
    assert "petId" in error["detail"]
    unknown = _call(f"{petstore}/v2/swagger.json", "nothingLikeThis", "{}")
    error = await engine.fault(unknown)
    assert error["type"] == "https://serverlessworkflow.io/spec/1.0.0/errors/configuration"


async def test_an_openapi_3_document_from_a_file(
    engine: Engine, petstore: str, tmp_path: Path
) -> None:
    spec = tmp_path / "echo.yaml"
    spec.write_text(
        f"""
openapi: 3.0.3
info: {{title: echo, version: '1'}}
servers:
  - url: "{petstore}/{{root}}"
    variables: {{root: {{default: anything}}}}
paths:
  /items/{{itemId}}:
    parameters:
      - {{name: itemId, in: path, required: true, schema: {{type: string}}}}
    put:
      operationId: putItem
      parameters:
        - {{name: verbose, in: query, schema: {{type: boolean}}}}
        - {{name: x-request-id, in: header, schema: {{type: string}}}}
      requestBody:
        content:
          application/json: {{schema: {{type: object}}}}
      responses: {{'200': {{description: ok}}}}
"""
    )
    flow = _call(
        spec.as_uri(),
        "putItem",
        "{itemId: 'a/b', verbose: true, x-request-id: r-1, body: {size: 3}}",
    )
    output = await engine.run(flow)
    assert output["method"] == "PUT"
    assert output["path"] == "/anything/items/a%2Fb"
    assert output["args"] == {"verbose": "true"}
    assert output["headers"]["x-request-id"] == "r-1"
    assert output["json"] == {"size": 3}
