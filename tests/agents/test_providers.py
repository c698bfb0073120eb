"""The provider code paths (OpenAI chat completions, Anthropic messages) against stand-ins."""

from __future__ import annotations

import asyncio
import json

import pytest

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.resources.values import to_json
from tests.agents.helpers import KEY, provider_agent, sent_key
from tests.agents.standins import (
    AUTH_CODE,
    RATE_LIMIT_CODE,
    Anthropic,
    Dialect,
    OpenAI,
    Reply,
    Request,
    StandIn,
)
from tests.conftest import Platform
from tests.handshake.helpers import eventually

DIALECTS = pytest.mark.parametrize("dialect", [OpenAI, Anthropic], ids=["openai", "anthropic"])


def messages(execution: pb.Execution) -> list[tuple[str, str, str]]:
    return [(m.role, m.tool_name, m.content) for m in execution.status.messages]


@DIALECTS
async def test_tool_calls_round_trip_with_live_messages(
    platform: Platform, dialect: Dialect
) -> None:
    todos = [{"content": "look it up", "status": "completed"}]

    def respond(request: Request) -> Reply:
        if not dialect.tool_results(request):
            return dialect.tool_call("write_todos", {"todos": todos}, text="Planning.")
        return dialect.text("The answer is 42.")

    async with StandIn(respond) as standin:
        await platform.client.apply(
            "agent", "asker", provider_agent(dialect, standin, tools=["write_todos"])
        )
        created = await platform.client.run_agent("asker", "What is the answer?")
        done = await platform.client.wait(created.execution.id)

    assert done.status.phase == pb.COMPLETED, done.status.error
    assert done.status.output == "The answer is 42."
    roles = messages(done)
    assert roles[0] == ("user", "", "What is the answer?")
    assert roles[1] == ("assistant", "", "Planning.")
    assert roles[2][:2] == ("tool_call", "write_todos")
    assert to_json(done.status.messages[2].data) == {"todos": todos}
    assert roles[3][:2] == ("tool_result", "write_todos") and "1 completed" in roles[3][2]
    assert roles[4] == ("assistant", "", "The answer is 42.")
    assert [(t.content, t.status) for t in done.status.todos] == [("look it up", "completed")]
    usage = done.status.usage
    assert (usage.input_tokens, usage.output_tokens, usage.requests) == (32, 16, 2)
    first = standin.requests[0]
    assert sent_key(dialect, first.headers) == KEY
    assert "Answer briefly." in json.dumps(first.body)
    assert [t for t in json.dumps(first.body).split('"') if t == "write_todos"]
    assert "The answer" not in json.dumps(standin.requests[0].body)
    assert dialect.tool_results(standin.requests[1])


@DIALECTS
async def test_structured_output_is_validated_against_the_schema(
    platform: Platform, dialect: Dialect
) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "integer"}, "unit": {"type": "string"}},
        "required": ["answer"],
    }

    def respond(request: Request) -> Reply:
        wrong = (
            len([r for r in standin.requests if r.path.endswith(("completions", "messages"))]) == 1
        )
        answer = "forty-two" if wrong else 42
        return dialect.tool_call("final_result", {"answer": answer, "unit": "things"})

    async with StandIn(respond) as standin:
        spec = provider_agent(dialect, standin, output_schema=schema)
        await platform.client.apply("agent", "counter", spec)
        created = await platform.client.run_agent("counter", "How many?")
        done = await platform.client.wait(created.execution.id)

    assert done.status.phase == pb.COMPLETED, done.status.error
    assert to_json(done.status.structured) == {"answer": 42, "unit": "things"}
    assert json.loads(done.status.output) == {"answer": 42, "unit": "things"}
    assert len(standin.requests) == 2
    assert "does not match the output schema" in json.dumps(standin.requests[1].body)
    assert done.status.usage.requests == 2


@DIALECTS
async def test_a_rate_limit_is_retried_with_backoff(platform: Platform, dialect: Dialect) -> None:
    def respond(request: Request) -> Reply:
        if len(standin.requests) == 1:
            return dialect.error(
                429, "Rate limit reached, slow down", RATE_LIMIT_CODE[dialect], retry_after="0"
            )
        return dialect.text("finally")

    async with StandIn(respond) as standin:
        await platform.client.apply("agent", "patient", provider_agent(dialect, standin))
        created = await platform.client.run_agent("patient", "hello")
        done = await platform.client.wait(created.execution.id)

    assert done.status.phase == pb.COMPLETED, done.status.error
    assert done.status.output == "finally"
    assert len(standin.requests) == 2
    notes = [m.content for m in done.status.messages if m.role == "system"]
    assert len(notes) == 1 and "429" in notes[0] and "slow down" in notes[0]
    assert "retrying" in notes[0] and "attempt 2 of" in notes[0]


@DIALECTS
async def test_an_authentication_failure_is_typed_and_not_retried(
    platform: Platform, dialect: Dialect
) -> None:
    def respond(request: Request) -> Reply:
        # Real providers quote (part of) the key they refused; the stored error must not.
        return dialect.error(401, f"Incorrect API key provided: {KEY}", AUTH_CODE[dialect])

    async with StandIn(respond) as standin:
        await platform.client.apply("agent", "locked", provider_agent(dialect, standin))
        created = await platform.client.run_agent("locked", "hello")
        done = await platform.client.wait(created.execution.id)

    error = done.status.error
    assert done.status.phase == pb.FAILED
    assert error.type == "https://serverlessworkflow.io/spec/1.0.0/errors/authentication"
    assert error.status == 401
    assert "Incorrect API key provided" in error.detail and KEY not in error.detail
    assert len(standin.requests) == 1
    assert not [m for m in done.status.messages if "starts the agent over" in m.content]


async def test_a_cancel_stops_the_model_request_in_flight(platform: Platform) -> None:
    async def respond(request: Request) -> Reply:
        await asyncio.sleep(300)
        return OpenAI.text("too late")

    async with StandIn(respond) as standin:
        await platform.client.apply("agent", "slow", provider_agent(OpenAI, standin))
        created = await platform.client.run_agent("slow", "take your time")

        async def asked() -> bool:
            return len(standin.requests) == 1

        await eventually(asked)
        await platform.client.cancel(created.execution.id, "no longer needed")
        await asyncio.wait_for(standin.hung_up.wait(), 20)
        done = await platform.client.wait(created.execution.id)

    assert done.status.phase == pb.CANCELLED
    assert len(standin.requests) == 1
