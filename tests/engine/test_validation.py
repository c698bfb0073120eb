"""Validation: the packaged official schema, semantic checks, unsupported constructs."""

from __future__ import annotations

from pathlib import Path

import pytest

from stigmer.engine.validation import (
    ValidationError,
    WorkflowInvalidError,
    load_workflow,
    parse_workflow,
    validate_data,
    validate_text,
)

PACKAGED_SCHEMA = (
    Path(__file__).resolve().parents[2] / "src" / "stigmer" / "engine" / "schema" / "workflow.yaml"
)
HEADER = "document: {dsl: '1.0.3', namespace: test, name: wf, version: '0.1.0'}\n"


def errors_of(body: str) -> list[ValidationError]:
    return validate_text(HEADER + body, source="wf.yaml")


def only(body: str) -> ValidationError:
    found = errors_of(body)
    assert len(found) == 1, found
    return found[0]


def test_packaged_schema_is_the_official_one(spec_dir: Path) -> None:
    assert PACKAGED_SCHEMA.read_bytes() == (spec_dir / "schema" / "workflow.yaml").read_bytes()


def test_valid_document() -> None:
    body = """do:
  - greet:
      call: agent
      with:
        agent: greeter
        message: ${ .text }
        env: {LANG: en}
        timeout: PT5M
      output: {as: .output}
      then: wrap
  - wrap:
      do:
        - inner:
            if: $context.ok
            set: {x: 1}
            then: exit
      export: {as: '$context + {done: true}'}
"""
    assert errors_of(body) == []


def test_error_names_file_line_task_and_path() -> None:
    error = only(
        "do:\n  - a:\n      set: {x: 1}\n  - callSvc:\n      call: a2a\n"
        "      with: {method: message/send, server: 'http://example.com'}\n"
    )
    assert error == ValidationError(
        file="wf.yaml",
        line=5,
        task="/do/1/callSvc",
        path="/do/1/callSvc",
        message="'call: a2a' is not supported by this engine yet",
    )
    assert str(error) == (
        "wf.yaml:5: task /do/1/callSvc: 'call: a2a' is not supported by this engine yet"
    )


def test_duplicate_names() -> None:
    error = only("do:\n  - a:\n      set: {x: 1}\n  - a:\n      set: {x: 2}\n")
    assert (error.line, error.task) == (5, "/do/1/a")
    assert "duplicate task name 'a'" in error.message


def test_then_must_name_a_sibling_at_every_level() -> None:
    body = """do:
  - top:
      do:
        - inner:
            set: {x: 1}
            then: top
  - last:
      set: {x: 1}
      then: inner
"""
    found = errors_of(body)
    assert [(e.line, e.path) for e in found] == [
        (7, "/do/0/top/do/0/inner/then"),
        (10, "/do/1/last/then"),
    ]
    assert all("names no task of this list" in e.message for e in found)


def test_bad_expressions() -> None:
    body = """do:
  - a:
      if: .x ==
      set:
        y: ${ .y + }
      output: {as: $output}
      input: {from: '${ [ }'}
"""
    found = errors_of(body)
    assert [e.path for e in found] == [
        "/do/0/a/if",
        "/do/0/a/set/y",
        "/do/0/a/output/as",
        "/do/0/a/input/from",
    ]
    assert all(e.message.startswith("invalid expression") for e in found)
    assert "$output is not defined" in found[2].message


def test_schema_violations_are_specific() -> None:
    body = """do:
  - a:
      set: {}
  - b:
      sett: 1
      set: {x: 1}
  - c:
      run:
        workflow: {name: x}
  - d: {}
"""
    found = errors_of(body)
    assert [(e.line, e.task, e.message) for e in found] == [
        (4, "/do/0/a", "{} should be non-empty"),
        (6, "/do/1/b", "unknown property 'sett' for a 'set' task"),
        (10, "/do/2/c", "'namespace' is a required property"),
        (
            11,
            "/do/3/d",
            "a task needs exactly one of: "
            "call, emit, for, fork, listen, raise, run, set, switch, try, wait, do",
        ),
    ]


def test_document_header_violation() -> None:
    found = validate_text("document: {dsl: '1.0.3', name: wf, version: '0.1.0'}\ndo: []\n")
    assert [(e.line, e.task, e.message) for e in found] == [
        (1, "", "'namespace' is a required property")
    ]


def test_call_agent_arguments() -> None:
    body = """do:
  - ask:
      call: agent
      with:
        agent: ''
        mesage: hi
        timeout: P1M
  - ask2:
      call: agent
      with:
        agent: a
        message: "Hello ${ .name | }"
  - ask3:
      call: agent
      with:
        agent: a
        message: "Hello ${ .name }, you are ${ .age } ({ not an expression }"
"""
    messages = [e.message for e in errors_of(body)]
    assert "'call: agent' needs 'agent' as a non-empty string" in messages
    assert "'call: agent' needs 'message' as a non-empty string" in messages
    assert any(m.startswith("unknown argument 'mesage'") for m in messages)
    assert any("no fixed length" in m for m in messages)
    assert any(m.startswith("expression '.name |'") for m in messages)
    assert len(messages) == 5


def test_unsupported_constructs_are_rejected() -> None:
    body = """input:
  schema: {format: json, resource: {endpoint: 'https://example.com/schema.json'}}
do:
  - b:
      run:
        workflow: {namespace: d, name: n, version: '1.0.0'}
        await: false
  - c:
      run:
        container: {image: alpine}
"""
    found = errors_of(body)
    unsupported = [e.path for e in found if "not supported by this engine yet" in e.message]
    assert unsupported == ["/input/schema", "/do/1/c"]


def test_load_workflow_raises_with_all_errors(tmp_path: Path) -> None:
    path = tmp_path / "wf.yaml"
    path.write_text(
        HEADER + "do:\n  - a:\n      set: {x: 1}\n      then: b\n  - a:\n      wait: P1M\n"
    )
    with pytest.raises(WorkflowInvalidError) as caught:
        load_workflow(path)
    assert len(caught.value.errors) == 3
    assert str(path) in str(caught.value)
    path.write_text(HEADER + "do:\n  - a:\n      set: {x: 1}\n")
    assert load_workflow(path)["do"] == [{"a": {"set": {"x": 1}}}]


def test_syntax_error_is_one_error_with_a_line() -> None:
    with pytest.raises(WorkflowInvalidError) as caught:
        parse_workflow(HEADER + "do: [\n", source="wf.yaml")
    (error,) = caught.value.errors
    assert (error.file, error.line) == ("wf.yaml", 3)


def test_data_without_positions() -> None:
    found = validate_data({"document": {}, "do": []})
    assert len(found) == 4
    assert all(e.line is None and "is a required property" in e.message for e in found)
