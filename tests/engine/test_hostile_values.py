"""Values the schema accepts but no run can use are refused by validation, with file,
line and field; documents in the shape of an older DSL 1.0.x say what changed."""

from __future__ import annotations

import pytest

from stigmer.engine.validation import ValidationError, validate_text

HEADER = "document: {dsl: '1.0.3', namespace: test, name: wf, version: '0.1.0'}\n"


def problems(body: str, header: str = HEADER) -> list[tuple[int | None, str, str]]:
    found = validate_text(header + body, source="wf.yaml")
    assert all(error.file == "wf.yaml" for error in found)
    return [(error.line, error.path, error.message) for error in found]


def one(body: str, header: str = HEADER) -> ValidationError:
    found = validate_text(header + body, source="wf.yaml")
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("status", [3_000_000_000, 99, 600, -1])
def test_an_error_status_outside_http_statuses_is_refused(status: int) -> None:
    error = one(
        f"""do:
  - boom:
      raise:
        error:
          type: https://example.com/errors/boom
          status: {status}
"""
    )
    assert (error.line, error.path) == (7, "/do/0/boom/raise/error/status")
    assert f"{status} is not an HTTP status; use one from 100 to 599" in error.message


def test_a_reusable_errors_status_is_checked_where_it_is_written() -> None:
    body = """use:
  errors:
    boom: {type: https://example.com/errors/boom, status: 3000000000}
do:
  - fail:
      raise: {error: boom}
"""
    [(line, path, message)] = problems(body)
    assert (line, path) == (4, "/use/errors/boom/status")
    assert "3000000000 is not an HTTP status" in message


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ("timeout: {after: PT0S}\ndo:\n  - a: {set: {x: 1}}\n", "/timeout/after"),
        ("do:\n  - a:\n      set: {x: 1}\n      timeout: {after: {seconds: 0}}\n", None),
        (
            "use:\n  timeouts:\n    never: {after: PT0S}\ndo:\n  - a: {set: {x: 1}}\n",
            "/use/timeouts/never/after",
        ),
        (
            "do:\n  - a:\n      try:\n        - b: {set: {x: 1}}\n      catch:\n"
            "        retry: {limit: {duration: PT0S}}\n",
            "/do/0/a/catch/retry/limit/duration",
        ),
        (
            "do:\n  - a:\n      try:\n        - b: {set: {x: 1}}\n      catch:\n"
            "        retry: {limit: {attempt: {count: 3, duration: {seconds: 0}}}}\n",
            "/do/0/a/catch/retry/limit/attempt/duration",
        ),
    ],
)
def test_zero_time_limits_are_refused(body: str, path: str | None) -> None:
    [(line, found, message)] = problems(body)
    assert found == (path or "/do/0/a/timeout/after")
    assert line is not None
    assert "must be longer than zero" in message


def test_a_zero_wait_is_a_pause_of_nothing() -> None:
    assert problems("do:\n  - a: {wait: PT0S}\n") == []


@pytest.mark.parametrize(
    ("duration", "path"),
    [
        ("P200000D", "/do/0/a/wait"),
        ("{days: 1000000000}", "/do/0/a/wait"),
    ],
)
def test_durations_longer_than_temporal_keeps_are_refused(duration: str, path: str) -> None:
    [(line, found, message)] = problems(f"do:\n  - a:\n      wait: {duration}\n")
    assert (line, found) == (4, path)
    assert "longer than the longest duration Temporal keeps" in message


@pytest.mark.parametrize(
    ("argument", "fragment"),
    [
        ("timeout: PT0S", "must be longer than zero"),
        ("timeout: {days: 200000}", "longer than the longest duration Temporal keeps"),
        ("heartbeatTimeout: {seconds: 0}", "must be longer than zero"),
        ("heartbeatTimeout: {milliseconds: 500}", "a heartbeat timeout is at least 1 s"),
    ],
)
def test_an_agent_calls_timeouts_must_be_usable(argument: str, fragment: str) -> None:
    error = one(
        f"""do:
  - ask:
      call: agent
      with:
        agent: helper
        message: hi
        {argument}
"""
    )
    key = argument.split(":", 1)[0]
    assert (error.line, error.path) == (8, f"/do/0/ask/with/{key}")
    assert fragment in error.message


def test_a_schedule_every_zero_is_refused() -> None:
    error = one("schedule: {every: PT0S}\ndo:\n  - a: {set: {x: 1}}\n")
    assert (error.line, error.path) == (2, "/schedule/every")
    assert "must be longer than zero" in error.message


OLDER = "document: {dsl: '1.0.1', namespace: test, name: wf, version: '0.1.0'}\n"


@pytest.mark.parametrize(
    "process", ["shell: {command: 'echo $1'", "script: {language: python, code: 'print(1)'"]
)
def test_arguments_as_a_map_name_the_field_and_the_version_difference(process: str) -> None:
    # dsl-reference.md (1.0.3), Shell Process and Script Process: "arguments | string[] |
    # A list of the arguments, if any, ... as argv"; DSL 1.0.1 took a map.
    error = one(
        f"""do:
  - legacy:
      run:
        {process}, arguments: {{name: value}}}}
""",
        OLDER,
    )
    kind = process.split(":", 1)[0]
    assert (error.line, error.path) == (5, f"/do/0/legacy/run/{kind}/arguments")
    assert "'arguments' is a map, the shape of DSL 1.0.1 and earlier" in error.message
    assert "this document declares 1.0.1" in error.message
    assert "this engine runs DSL 1.0.3" in error.message
    assert "container" not in error.message


def test_a_retry_count_no_history_can_hold_is_refused() -> None:
    error = one(
        """do:
  - a:
      try:
        - b: {set: {x: 1}}
      catch:
        retry: {limit: {attempt: {count: 1000000}}}
"""
    )
    assert error.path == "/do/0/a/catch/retry/limit/attempt/count"
    assert "at most 1000" in error.message
