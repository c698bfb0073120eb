"""Reusable functions (`use.functions`) and extensions (`use.extensions`), through Temporal."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from tests.support.engine import outcome


async def test_a_function_runs_with_its_arguments_as_input(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    body = """use:
  functions:
    greet:
      input:
        schema:
          format: json
          document: {type: object, required: [name]}
      set:
        greeting: ${ "Hello " + .name }
      output:
        as: .greeting
do:
  - hello:
      call: greet
      with:
        name: ${ .who }
"""
    assert await outcome(temporal_env, engine_queue, body, {"who": "Ada"}) == "Hello Ada"


async def test_extensions_run_before_and_after_and_can_replace_the_task(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    body = """use:
  extensions:
    - mock:
        extend: set
        when: $task.name == "replaced"
        before:
          - inject:
              set: {mocked: "from the extension"}
              then: exit
    - stamp:
        extend: all
        after:
          - mark:
              set: '${ . + {stamped: true} }'
do:
  - replaced:
      set: {mocked: "never"}
  - real:
      set: '${ {value: 1, before: .} }'
"""
    # The mocked task was bypassed (its `after` lists too); the real one was stamped.
    assert await outcome(temporal_env, engine_queue, body) == {
        "value": 1,
        "before": {"mocked": "from the extension"},
        "stamped": True,
    }


async def test_an_after_extension_sees_a_switchs_output_and_keeps_its_jump(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    body = """use:
  extensions:
    - note:
        extend: switch
        after:
          - stamp:
              set: '${ . + {noted: true} }'
do:
  - pick:
      switch:
        - big: {when: .n > 10, then: large}
  - small:
      set: {size: small}
      then: end
  - large:
      set: '${ . + {size: "large"} }'
"""
    assert await outcome(temporal_env, engine_queue, body, {"n": 50}) == {
        "n": 50,
        "noted": True,
        "size": "large",
    }
