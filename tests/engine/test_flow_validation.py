"""What validation says about switch, for, fork, try, raise, wait, timeouts and schemas."""

from __future__ import annotations

from stigmer.engine.validation import validate_text

HEADER = "document: {dsl: '1.0.3', namespace: test, name: wf, version: '0.1.0'}\n"


def problems(body: str) -> list[tuple[str, str]]:
    return [(e.path, e.message) for e in validate_text(HEADER + body, source="wf.yaml")]


def test_a_valid_document_with_every_flow_construct() -> None:
    body = """use:
  errors:
    broken: {type: 'https://example.com/broken', status: 500, detail: '${ .why }'}
  retries:
    patient: {delay: PT1S, backoff: {linear: {}}, limit: {attempt: {count: 3}}}
  timeouts:
    short: {after: PT1M}
timeout: {after: {hours: 1}}
input: {schema: {format: json, document: {type: object}}}
do:
  - loop:
      for: {each: row, in: .rows, at: r}
      while: $r < 10
      do:
        - pick:
            switch:
              - empty: {when: ($row | length) == 0, then: exit}
              - other: {then: work}
        - work:
            try:
              - both:
                  fork:
                    branches:
                      - a: {wait: '${ .pause }', then: exit}
                      - b: {raise: {error: broken}, timeout: short}
            catch:
              as: problem
              when: $problem.status >= 500 and $row != null
              retry: patient
              do:
                - note: {set: {row: '${ $row }', problem: '${ $problem }'}}
"""
    assert problems(body) == []


def found(body: str) -> dict[str, str]:
    """Each problem's path and message, for documents with one problem per path."""
    return dict(problems(body))


def test_switch_cases() -> None:
    body = """do:
  - pick:
      switch:
        - a: {when: '.x ==', then: done}
        - b: {then: nowhere}
        - c: {then: exit}
  - done: {set: {ok: true}}
"""
    result = found(body)
    assert set(result) == {
        "/do/0/pick/switch/0/a/when",
        "/do/0/pick/switch/1/b/then",
        "/do/0/pick/switch/2/c",
    }
    assert result["/do/0/pick/switch/0/a/when"].startswith("invalid expression '.x =='")
    assert result["/do/0/pick/switch/1/b/then"].startswith("'then: nowhere' names no task")
    assert result["/do/0/pick/switch/2/c"] == (
        "only one case may leave out 'when': /do/0/pick/switch/1/b is already the default"
    )


def test_for_variables_are_scoped_and_named_well() -> None:
    body = """do:
  - loop:
      for: {each: item, in: .items, at: item}
      do:
        - use: {set: {x: '${ $item }', y: '${ $index }'}}
  - after: {set: {x: '${ $item }'}}
  - bad:
      for: {each: 'my-item', in: .items, at: context}
      do:
        - use: {set: {x: 1}}
"""
    result = found(body)
    assert set(result) == {
        "/do/0/loop/for/at",
        "/do/0/loop/do/0/use/set/y",
        "/do/1/after/set/x",
        "/do/2/bad/for/each",
        "/do/2/bad/for/at",
    }
    assert result["/do/0/loop/for/at"] == "'for.each' and 'for.at' both name $item"
    assert "$index is not defined" in result["/do/0/loop/do/0/use/set/y"]
    assert "$item is not defined" in result["/do/1/after/set/x"]
    assert "not a valid variable name" in result["/do/2/bad/for/each"]
    assert result["/do/2/bad/for/at"] == "'context' would hide the runtime argument $context"


def test_fork_branches_cannot_jump_to_each_other() -> None:
    body = """do:
  - both:
      fork:
        branches:
          - a: {set: {a: 1}, then: b}
          - b: {set: {b: 1}, then: end}
"""
    assert found(body) == {
        "/do/0/both/fork/branches/0/a/then": (
            "'then: b': a fork branch cannot jump to another branch; use continue, exit, end"
        )
    }


def test_references_to_reusable_components() -> None:
    body = """use:
  retries:
    patient: {delay: P1M}
do:
  - attempt:
      try:
        - fail: {raise: {error: missing}, timeout: quick}
      catch:
        as: err
        retry: impatient
        when: $error != null
"""
    result = found(body)
    assert result == {
        "/use/retries/patient/delay": result["/use/retries/patient/delay"],
        "/do/0/attempt/try/0/fail/raise/error": (
            "'missing' is not defined in use.errors (defined: none)"
        ),
        "/do/0/attempt/try/0/fail/timeout": "'quick' is not defined in use.timeouts (defined: none)",
        "/do/0/attempt/catch/retry": "'impatient' is not defined in use.retries (defined: patient)",
        "/do/0/attempt/catch/when": result["/do/0/attempt/catch/when"],
    }
    assert "no fixed length" in result["/use/retries/patient/delay"]
    assert "$error is not defined" in result["/do/0/attempt/catch/when"]


def test_durations_and_schemas() -> None:
    body = """timeout: {after: P2M}
input: {schema: {format: xml, document: {}}}
output: {schema: {format: json, document: {type: 5}}}
do:
  - pause: {wait: {weeks: 1}}
  - later: {wait: '${ .pause }'}
  - check:
      set: {ok: true}
      export: {schema: {format: 'json:2020-12', document: {type: object}}}
"""
    result = found(body)
    assert set(result) == {"/timeout/after", "/input/schema", "/output/schema", "/do/0/pause/wait"}
    assert "no fixed length" in result["/timeout/after"]
    assert result["/input/schema"] == "schema format 'xml' is not supported; use json"
    assert result["/output/schema"].startswith("invalid JSON schema: 5 is not valid")
