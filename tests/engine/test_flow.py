"""switch, for, fork, try/catch/retry, raise, wait, timeouts and schemas, run through Temporal.

The time-skipping server skips timers, so waits, retry delays and timeouts of minutes run
in moments while the workflow clock (`now`) still moves by the full amount.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from stigmer.contract import problems as errors
from stigmer.engine.durations import LONGEST
from stigmer.engine.retries import UNLIMITED_RETRIES, policy_of
from tests.support.engine import fault, outcome, timers_took


async def test_switch_cases_jump_exit_and_end_at_any_depth(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    body = """do:
  - outer:
      do:
        - pick:
            switch:
              - small: {when: .n < 10, then: exit}
              - big: {when: .n >= 100, then: end}
              - other: {then: medium}
        - never: {set: {path: never}}
        - medium:
            set: {path: medium, n: '${ .n }'}
  - after:
      set: {path: '${ (.path // "small") + "+after" }'}
"""
    queue = (temporal_env, engine_queue)
    assert await outcome(*queue, body, {"n": 1}) == {"path": "small+after"}
    assert await outcome(*queue, body, {"n": 50}) == {"path": "medium+after"}
    assert await outcome(*queue, body, {"n": 500}) == {"n": 500}


async def test_switch_without_match_takes_its_own_then(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    body = """do:
  - pick:
      switch:
        - red: {when: .color == "red", then: setRed}
      then: exit
  - setRed: {set: {red: true}}
"""
    assert await outcome(temporal_env, engine_queue, body, {"color": "blue"}) == {"color": "blue"}


async def test_for_variables_while_and_nesting(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    body = """do:
  - rows:
      for: {each: row, in: .rows, at: r}
      while: (.cells | length) < 5
      do:
        - cols:
            for: {in: $row}
            do:
              - cell:
                  set:
                    cells: '${ .cells + ["\\($r).\\($index)=\\($item)"] }'
"""
    input = {"rows": [["a", "b"], ["c", "d"], ["e", "f"], ["g"]], "cells": []}
    assert await outcome(temporal_env, engine_queue, body, input) == {
        "cells": ["0.0=a", "0.1=b", "1.0=c", "1.1=d", "2.0=e", "2.1=f"]
    }


async def test_for_over_nothing_and_over_a_non_array(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    body = """do:
  - loop:
      for: {in: .items}
      do:
        - touch: {set: {touched: true}}
"""
    assert await outcome(temporal_env, engine_queue, body, {"items": None}) == {"items": None}
    error = await fault(temporal_env, engine_queue, body, {"items": {"a": 1}})
    assert (error.type, error.instance) == (errors.EXPRESSION, "/do/0/loop")
    assert "must yield an array, got an object" in (error.detail or "")


async def test_fork_outputs_in_declaration_order(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    body = """do:
  - both:
      fork:
        branches:
          - slow:
              do:
                - pause: {wait: PT1M}
                - done: {set: {branch: slow}}
          - fast: {set: {branch: fast}}
"""
    assert await outcome(temporal_env, engine_queue, body) == [
        {"branch": "slow"},
        {"branch": "fast"},
    ]


async def test_fork_compete_first_to_complete_wins_and_faults_do_not(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    body = """do:
  - race:
      fork:
        compete: true
        branches:
          - broken:
              raise:
                error: {type: 'https://example.com/broken', status: 500}
          - slow:
              do:
                - pause: {wait: {hours: 1}}
                - done: {set: {winner: slow}}
          - quick:
              do:
                - pause: {wait: {minutes: 1}}
                - done: {set: {winner: quick}}
  - after:
      set: {winner: '${ .winner }', elapsed: '<elapsed>'}
"""
    result = await outcome(temporal_env, engine_queue, body)
    assert result["winner"] == "quick"
    assert 60 <= result["elapsed"] < 3600  # the quick branch's minute, not the slow hour


async def test_fork_fault_cancels_the_other_branches(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    body = """do:
  - both:
      fork:
        branches:
          - slow: {wait: {hours: 5}}
          - broken:
              raise:
                error: {type: 'https://example.com/broken', status: 502, title: Broken}
"""
    error = await fault(temporal_env, engine_queue, body)
    assert error.to_dict() == {
        "type": "https://example.com/broken",
        "status": 502,
        "title": "Broken",
        "instance": "/do/0/both/fork/branches/1/broken",
    }


async def test_raise_reusable_with_expressions(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    body = """use:
  errors:
    notReady:
      type: https://serverlessworkflow.io/spec/1.0.0/errors/runtime
      status: 503
      title: Not ready
      detail: ${ "\\($workflow.definition.document.name) needs \\(.what)" }
do:
  - check:
      raise: {error: notReady}
"""
    error = await fault(temporal_env, engine_queue, body, {"what": "coffee"})
    assert error.to_dict() == {
        "type": errors.RUNTIME,
        "status": 503,
        "title": "Not ready",
        "detail": "test needs coffee",
        "instance": "/do/0/check",
    }


TRY = """do:
  - attempt:
      try:
        - fail:
            raise:
              error:
                type: https://example.com/flaky
                status: 503
                title: Flaky
                detail: ${ "try \\(.n)" }
      catch:
<catch>"""


async def test_catch_filters_binds_and_handles(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    body = TRY.replace(
        "<catch>",
        """        errors:
          with: {type: 'https://example.com/flaky', status: 503, details: try 1}
        as: problem
        when: .title == "Flaky"
        exceptWhen: $problem.status == 500
        do:
          - handle:
              set:
                caught: ${ $problem }
                input: ${ . }
""",
    )
    assert await outcome(temporal_env, engine_queue, body, {"n": 1}) == {
        "caught": {
            "type": "https://example.com/flaky",
            "status": 503,
            "title": "Flaky",
            "detail": "try 1",
            "instance": "/do/0/attempt/try/0/fail",
        },
        "input": {"n": 1},
    }
    # A filter that does not match lets the error through.
    error = await fault(temporal_env, engine_queue, body, {"n": 2})
    assert (error.status, error.instance) == (503, "/do/0/attempt/try/0/fail")


async def test_catch_without_do_swallows_and_except_when_refuses(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    body = TRY.replace(
        "<catch>",
        """        errors: {with: {status: 503}}
        exceptWhen: ${ $error.detail == "try 2" }
""",
    )
    assert await outcome(temporal_env, engine_queue, body, {"n": 1}) == {"n": 1}
    assert (await fault(temporal_env, engine_queue, body, {"n": 2})).status == 503


RETRY = """use:
  retries:
    threeTimes:
      delay: {seconds: 10}
      backoff: {exponential: {}}
      limit: {attempt: {count: 3}}
do:
  - attempt:
      try:
        - count:
            set: ${ . }
            export: {as: '$context + {runs: (($context.runs // 0) + 1)}'}
        - failUntil:
            if: ${ $context.runs < .succeedOn }
            raise:
              error: {type: 'https://example.com/flaky', status: 503}
      catch:
        errors: {with: {status: 503}}
<retry>
  - report:
      set:
        runs: ${ $context.runs }
        elapsed: '<elapsed>'
        handled: ${ .handled // false }
"""


async def test_retry_backoff_until_success(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    body = RETRY.replace("<retry>", "        retry: threeTimes")
    # Waits 10 s, 20 s, then 40 s: exponential backoff from the delay.
    result = await outcome(temporal_env, engine_queue, body, {"succeedOn": 4})
    assert (result["runs"], result["handled"]) == (4, False)
    assert timers_took(70, result["elapsed"])


async def test_retry_exhausted_faults_or_runs_catch_do(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    body = RETRY.replace("<retry>", "        retry: threeTimes")
    error = await fault(temporal_env, engine_queue, body, {"succeedOn": 9})
    assert (error.status, error.instance) == (503, "/do/0/attempt/try/1/failUntil")
    inline = """        retry:
          delay: {seconds: 10}
          backoff: {linear: {}}
          jitter: {from: {seconds: 1}, to: {seconds: 2}}
          limit: {duration: {seconds: 70}}
        do:
          - fallback: {set: {handled: true}}"""
    # Linear: 10+j, 20+j, 30+j (j in 1..2 s); a fourth retry (40+j more) would end past 70 s.
    result = await outcome(
        temporal_env, engine_queue, RETRY.replace("<retry>", inline), {"succeedOn": 9}
    )
    assert result["runs"] == 4 and result["handled"] is True
    assert 63 <= result["elapsed"] <= 66


async def test_wait_iso_and_object(temporal_env: WorkflowEnvironment, engine_queue: str) -> None:
    body = """do:
  - first: {wait: PT1H30M}
  - second: {wait: {minutes: 1, seconds: 5}}
  - third: {wait: '${ .pause }'}
  - report: {set: {elapsed: '<elapsed>'}}
"""
    result = await outcome(temporal_env, engine_queue, body, {"pause": "PT10S"})
    assert timers_took(5400 + 65 + 10, result["elapsed"])


async def test_task_timeout_is_a_catchable_timeout_error(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    body = """use:
  timeouts:
    short: {after: PT1M}
do:
  - guarded:
      try:
        - slow:
            wait: {hours: 2}
            timeout: short
      catch:
        errors: {with: {type: 'https://serverlessworkflow.io/spec/1.0.0/errors/timeout'}}
        do:
          - note: {set: {timedOut: '${ $error }', elapsed: '<elapsed>'}}
"""
    result = await outcome(temporal_env, engine_queue, body)
    assert timers_took(60, result["elapsed"])
    assert result["timedOut"]["status"] == 408
    assert result["timedOut"]["instance"] == "/do/0/guarded/try/0/slow"


async def test_workflow_timeout_faults(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    body = """timeout: {after: {minutes: 5}}
do:
  - slow: {wait: {days: 1}}
"""
    error = await fault(temporal_env, engine_queue, body)
    assert (error.type, error.status, error.instance) == (errors.TIMEOUT, 408, "/")


async def test_attempt_duration_bounds_each_attempt(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    body = """do:
  - attempt:
      try:
        - slow: {wait: {hours: 1}}
      catch:
        errors: {with: {status: 408}}
        retry:
          limit: {attempt: {count: 2, duration: {minutes: 1}}}
        do:
          - note: {set: {elapsed: '<elapsed>'}}
"""
    assert timers_took(180, (await outcome(temporal_env, engine_queue, body))["elapsed"])


SCHEMA = (
    "{format: json, document: {type: object, required: [id], properties: {id: {type: string}}}}"
)


@pytest.mark.parametrize(
    ("where", "input", "instance"),
    [
        ("input", {"id": 1}, "/input"),
        ("task input", {"id": 1}, "/do/0/check"),
        ("task output", {"id": "a"}, "/do/0/check"),
        ("export", {"id": "a"}, "/do/0/check"),
        ("output", {"id": "a"}, "/output"),
    ],
)
async def test_schemas_fault_with_validation_errors(
    temporal_env: WorkflowEnvironment, engine_queue: str, where: str, input: Any, instance: str
) -> None:
    task = {
        "task input": f"input: {{schema: {SCHEMA}}}",
        "task output": f"output: {{as: '{{id: 5}}', schema: {SCHEMA}}}",
        "export": f"export: {{as: '{{}}', schema: {SCHEMA}}}",
    }.get(where, "set: {ok: true}")
    document = {
        "input": f"input: {{schema: {SCHEMA}}}\n",
        "output": f"output: {{schema: {SCHEMA}}}\n",
    }
    body = document.get(where, "") + f"do:\n  - check:\n      set: ${{ . }}\n      {task}\n"
    if where in ("input", "output"):
        body = document[where] + "do:\n  - check:\n      set: {ok: true}\n"
    error = await fault(temporal_env, engine_queue, body, input)
    assert (error.type, error.status, error.instance) == (errors.VALIDATION, 400, instance)
    assert "does not match its schema" in (error.detail or "")


async def test_schemas_pass_valid_data(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    body = f"""input: {{schema: {SCHEMA}}}
output: {{schema: {SCHEMA}}}
do:
  - check:
      input: {{schema: {SCHEMA}}}
      set: ${{ . }}
      output: {{schema: {SCHEMA}}}
      export: {{as: ., schema: {SCHEMA}}}
"""
    assert await outcome(temporal_env, engine_queue, body, {"id": "a"}) == {"id": "a"}


async def test_a_retry_policy_without_limits_still_ends(
    temporal_env: WorkflowEnvironment, engine_queue: str
) -> None:
    # Nothing retries forever: with no count and no duration, the policy gives up after
    # UNLIMITED_RETRIES retries, and the last error faults the task.
    body = """do:
  - flaky:
      try:
        - count:
            set: {counted: true}
            export: {as: '$context + {runs: (($context.runs // 0) + 1)}'}
        - fail:
            raise:
              error: {type: 'https://example.com/errors/flaky', status: 503}
      catch:
        retry:
          delay: {seconds: 1}
"""
    error = await fault(temporal_env, engine_queue, body)
    assert (error.type, error.status) == ("https://example.com/errors/flaky", 503)
    caught = body + "        do:\n          - summary: {set: {runs: '${ $context.runs }'}}\n"
    assert await outcome(temporal_env, engine_queue, caught) == {"runs": UNLIMITED_RETRIES + 1}


def test_an_exponential_backoff_never_outgrows_a_timer() -> None:
    policy = policy_of(
        {"delay": {"seconds": 1}, "backoff": {"exponential": {}}},
        {},
        lambda raw: raw,
        instance="/do/0/flaky",
    )
    assert policy is not None and policy.count == UNLIMITED_RETRIES
    assert policy.delay_before(3) == timedelta(seconds=4)
    assert policy.delay_before(UNLIMITED_RETRIES) == timedelta(seconds=LONGEST.total_seconds())
