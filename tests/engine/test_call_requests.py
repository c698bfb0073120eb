"""`call: agent` and `run: workflow` turn their evaluated arguments into a CallRequest."""

from __future__ import annotations

from typing import Any

import pytest

from stigmer.contract import problems as errors
from stigmer.contract.inputs import CallRequest, CallResult
from stigmer.contract.problems import Fault
from stigmer.engine.expressions import Evaluator
from stigmer.engine.tasks import call_agent, run_workflow
from stigmer.engine.tasktype import TaskScope


class _NoNesting:
    """Call tasks run no nested tasks."""

    async def run_list(self, *args: Any) -> Any:
        raise AssertionError("call tasks run no nested list")

    async def run_alone(self, *args: Any) -> Any:
        raise AssertionError("call tasks run no nested task")


def scope(input: Any) -> TaskScope:
    return TaskScope(
        pointer="/do/1/ask",
        args={"input": input, "context": {"lang": "fr"}},
        evaluator=Evaluator(clock=lambda: 0.0),
        execution_id="wfx-1",
        runner=_NoNesting(),
    )


def test_call_agent_request() -> None:
    task = {
        "call": "agent",
        "with": {
            "agent": "summarizer",
            "message": '${ "Summarize: \\(.text)" }',
            "env": {"LANG": "${ $context.lang }", "DEPTH": 2, "DEBUG": True},
            "timeout": {"minutes": 5},
        },
    }
    input = {"text": "a long story"}
    assert call_agent.build_request(
        call_agent.TASK.parse(task), input, scope(input)
    ) == CallRequest(
        kind="agent",
        target="summarizer",
        message="Summarize: a long story",
        env={"LANG": "fr", "DEPTH": "2", "DEBUG": "true"},
        deadline_seconds=300.0,
        parent_execution_id="wfx-1",
        task_path="/do/1/ask",
    )


def test_call_agent_message_interpolates_embedded_expressions() -> None:
    task = {
        "call": "agent",
        "with": {
            "agent": "a",
            "message": 'Summarize ${ .title } in ${ .words } words, tags ${ .tags } ${ {a: "}"} | .a }',
            "heartbeatTimeout": {"seconds": 30},
        },
    }
    input = {"title": "Tides", "words": 50, "tags": ["x"]}
    request = call_agent.build_request(call_agent.TASK.parse(task), input, scope(input))
    assert request.message == 'Summarize Tides in 50 words, tags ["x"] }'
    assert request.heartbeat_timeout_seconds == 30


def test_call_agent_iso_timeout_and_structured_message() -> None:
    task = {"call": "agent", "with": {"agent": "a", "message": "${ . }", "timeout": "PT90S"}}
    request = call_agent.build_request(call_agent.TASK.parse(task), {"k": 1}, scope({"k": 1}))
    assert request.message == '{"k": 1}'
    assert request.deadline_seconds == 90.0
    assert request.env == {}


@pytest.mark.parametrize(
    "args",
    [
        {"agent": "${ .missing }", "message": "hi"},
        {"agent": "a", "message": "hi", "timeout": "${ .bad }"},
        {"agent": "a", "message": "hi", "env": {"X": "${ .obj }"}},
        {"agent": "a", "message": "hi", "timeout": "${ .zero }"},
        {"agent": "a", "message": "hi", "timeout": "${ .negative }"},
        {"agent": "a", "message": "hi", "timeout": "${ .forever }"},
        {"agent": "a", "message": "hi", "heartbeatTimeout": "${ .blink }"},
    ],
)
def test_call_agent_bad_evaluated_arguments(args: dict[str, Any]) -> None:
    input = {
        "bad": "soon",
        "obj": {"a": 1},
        "zero": "PT0S",
        "negative": "-PT5S",
        "forever": {"days": 200_000},
        "blink": {"milliseconds": 500},
    }
    with pytest.raises(Fault) as caught:
        task = call_agent.TASK.parse({"call": "agent", "with": args})
        call_agent.build_request(task, input, scope(input))
    assert caught.value.problem.type == errors.CONFIGURATION
    assert caught.value.problem.instance == "/do/1/ask"


def test_run_workflow_request() -> None:
    task = {
        "run": {
            "workflow": {
                "namespace": "default",
                "name": "register-customer",
                "version": "0.1.0",
                "input": {"customer": "${ .user }", "source": "web"},
            }
        }
    }
    input = {"user": {"id": 7}}
    typed = run_workflow.TASK.parse(task)
    assert run_workflow.build_request(typed, input, scope(input)) == CallRequest(
        kind="workflow",
        target="register-customer",
        input={"customer": {"id": 7}, "source": "web"},
        parent_execution_id="wfx-1",
        task_path="/do/1/ask",
    )


def test_run_workflow_without_input_passes_the_tasks_transformed_input() -> None:
    # dsl-reference.md, Run: "input: The data, if any, to pass as input to the workflow";
    # a process receives the task's transformed input, as every task does.
    task = {"run": {"workflow": {"namespace": "default", "name": "child", "version": "0.1.0"}}}
    input = {"order": 42}
    request = run_workflow.build_request(run_workflow.TASK.parse(task), input, scope(input))
    assert request.input == {"order": 42}


def test_call_agent_output() -> None:
    result = CallResult(execution_id="ax-1", phase="succeeded", output="done", structured={"a": 1})
    assert call_agent.task_output(result) == {
        "execution_id": "ax-1",
        "phase": "succeeded",
        "output": "done",
        "structured": {"a": 1},
    }
    result.result_ref = "ref-1"
    assert call_agent.task_output(result)["result_ref"] == "ref-1"
