"""The interpreter, run for real as the `stigmer/workflow-execution` Temporal workflow."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from stigmer.contract import problems as errors
from tests.support.engine import HEADER, run


async def test_data_flow_and_arguments(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    text = (
        HEADER
        + """input:
  from: .order
do:
  - price:
      set:
        total: ${ .qty * .unit }
        who: ${ $workflow.input.customer }
        task: ${ $task.reference }
      output:
        as: '{ total: .total, who: .who, task: .task, raw: $task.output.total }'
      export:
        as: '$context + { total: $output.total }'
  - skipped:
      if: .total < 10
      set: {small: true}
  - summary:
      set:
        total: ${ $context.total }
        input: ${ $input.who }
        runtime: ${ $runtime.name }
        startedAt: ${ $workflow.startedAt.iso8601 | test("Z$") }
output:
  as: '. + { context: $context }'
"""
    )
    input = {"customer": "ada", "order": {"qty": 3, "unit": 5, "who": "ada"}}
    assert await run(temporal_env, engine_queue, text, input) == {
        "total": 15,
        "input": "ada",
        "runtime": "stigmer",
        "startedAt": True,
        "context": {"total": 15},
    }


async def test_an_outer_export_sees_what_its_nested_tasks_exported(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    text = (
        HEADER
        + """do:
  - outer:
      do:
        - inner:
            set: {seen: true}
            export:
              as: '$context + { inner: 1 }'
      export:
        as: '$context + { outer: ($context.inner + 1) }'
  - summary:
      set:
        context: ${ $context }
"""
    )
    assert await run(temporal_env, engine_queue, text) == {"context": {"inner": 1, "outer": 2}}


async def test_if_true_runs_and_exit_leaves_only_its_list(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    text = (
        HEADER
        + """do:
  - outer:
      do:
        - first:
            if: ${ .go }
            set: {steps: ["first"]}
            then: exit
        - never:
            set: {steps: ["never"]}
  - after:
      set:
        steps: ${ .steps + ["after"] }
"""
    )
    assert await run(temporal_env, engine_queue, text, {"go": True}) == {
        "steps": ["first", "after"]
    }


async def test_then_loops_back_to_an_earlier_sibling(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    text = (
        HEADER
        + """do:
  - increment:
      set:
        n: ${ (.n // 0) + 1 }
  - check:
      if: .n < 3
      set: ${ . }
      then: increment
"""
    )
    assert await run(temporal_env, engine_queue, text) == {"n": 3}


async def test_loose_mode(temporal_env: WorkflowEnvironment, engine_queue: str) -> None:
    text = (
        HEADER
        + """evaluate: {language: jq, mode: loose}
do:
  - s:
      set:
        literal: hello world
        computed: .a + 1
        strict: ${ .a }
"""
    )
    assert await run(temporal_env, engine_queue, text, {"a": 1}) == {
        "literal": "hello world",
        "computed": 2,
        "strict": 1,
    }


async def test_expression_error_faults_with_dsl_error(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    text = (
        HEADER
        + """do:
  - ok:
      set: {a: 1}
  - broken:
      set:
        b: ${ .a.b }
"""
    )
    with pytest.raises(WorkflowFailureError) as caught:
        await run(temporal_env, engine_queue, text)
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == errors.EXPRESSION
    error = errors.from_application_error(cause)
    assert error.status == 400
    assert error.instance == "/do/1/broken"
    assert "Cannot index number" in (error.detail or "")


async def test_workflow_clock_is_deterministic_now(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    text = (
        HEADER
        + """do:
  - s:
      set:
        same: ${ (now | floor) == ($workflow.startedAt.epoch.seconds) }
        env: ${ $ENV }
"""
    )
    assert await run(temporal_env, engine_queue, text) == {"same": True, "env": {}}
