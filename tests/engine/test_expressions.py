"""jq runtime expressions: strict and loose forms, arguments, errors."""

from __future__ import annotations

from typing import Any

import pytest

from stigmer.contract import problems as errors
from stigmer.contract.problems import Fault
from stigmer.engine import expressions as ex
from stigmer.engine.expressions import Evaluator


def evaluator(*, loose: bool = False) -> Evaluator:
    return Evaluator(loose=loose, clock=lambda: 1_700_000_000.5)


def test_strict_body() -> None:
    assert ex.strict_body("${ .a }") == ".a"
    assert ex.strict_body("  ${\n .a | length\n}  ") == ".a | length"
    assert ex.strict_body("Hello ${ .a }") is None
    assert ex.strict_body(".a") is None
    assert ex.strict_body(3) is None


def test_fields_take_bare_and_strict_forms() -> None:
    ev = evaluator()
    assert ev.field(".a.b", {"a": {"b": 2}}, {}, instance="/x") == 2
    assert ev.field("${ .a.b }", {"a": {"b": 2}}, {}, instance="/x") == 2
    assert ev.field({"v": "${ .a }", "lit": ".a"}, {"a": 1}, {}, instance="/x") == {
        "v": 1,
        "lit": ".a",
    }


def test_template_is_recursive_and_keeps_literals() -> None:
    value = {"n": "${ .n + 1 }", "list": ["${ .n }", 2, "text"], "nested": {"t": True}}
    assert evaluator().template(value, {"n": 1}, {}, instance="/x") == {
        "n": 2,
        "list": [1, 2, "text"],
        "nested": {"t": True},
    }


def test_arguments_are_named_variables() -> None:
    args = {"context": {"c": 1}, "input": {"i": 2}, "workflow": {"id": "w"}}
    text = "${ [$context.c, $input.i, $workflow.id] }"
    assert evaluator().template(text, None, args, instance="/x") == [1, 2, "w"]


def test_argument_out_of_scope_fails_to_compile() -> None:
    assert ex.compile_error("$output", ex.TASK_OUTPUT) is not None
    assert ex.compile_error("$output", ex.TASK_EXPORT) is None
    assert ex.compile_error("$secrets", ex.WORKFLOW_INPUT) is None
    assert ex.compile_error("$input", ex.WORKFLOW_OUTPUT) is not None


def test_first_result_and_empty_is_null() -> None:
    ev = evaluator()
    assert ev.run(".[]", [3, 4], {}, instance="/x") == 3
    assert ev.run("empty", 1, {}, instance="/x") is None


def test_truthiness_follows_jq() -> None:
    ev = evaluator()
    for value, expected in [(True, True), (0, True), ("", True), (False, False), (None, False)]:
        assert ev.truthy(".", value, {}, instance="/x") is expected


def test_nondeterministic_builtins_are_pinned() -> None:
    ev = evaluator()
    assert ev.run("now", None, {}, instance="/x") == 1_700_000_000.5
    assert ev.run("[env, $ENV]", None, {}, instance="/x") == [{}, {}]
    assert ev.run("0 | localtime | mktime", None, {}, instance="/x") == 0
    # Each alone, as the bindings are made only for the text that names them.
    assert ev.run("$ENV.HOME", None, {}, instance="/x") is None
    assert ev.run("env.HOME", None, {}, instance="/x") is None
    assert ev.run("now | floor", None, {}, instance="/x") == 1_700_000_000
    assert ev.run(".known", {"known": 1}, {}, instance="/x") == 1


@pytest.mark.parametrize("text", [".a +", ".a.b"])
def test_errors_are_dsl_expression_errors(text: str) -> None:
    with pytest.raises(Fault) as caught:
        evaluator().run(text, {"a": 1}, {}, instance="/do/0/t")
    error = caught.value.problem
    assert error.type == errors.EXPRESSION
    assert error.status == 400
    assert error.instance == "/do/0/t"


def test_compile_error_points_into_the_written_text() -> None:
    message = ex.compile_error(".a +", ex.TASK)
    assert message is not None
    assert "column 4" in message
    assert "$__now" not in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hello world", "hello world"),
        (".a + 1", 2),
        ("${ .a }", 1),
        ({"x": ".a"}, {"x": 1}),
    ],
)
def test_loose_mode(value: Any, expected: Any) -> None:
    assert evaluator(loose=True).template(value, {"a": 1}, {}, instance="/x") == expected


def test_loose_mode_still_faults_on_explicit_expressions() -> None:
    with pytest.raises(Fault):
        evaluator(loose=True).template("${ .a.b }", {"a": 1}, {}, instance="/x")


def test_a_template_runs_as_one_program_with_the_same_results() -> None:
    template = {
        "first": "${ .items[] }",
        "next": "${ $n + 1 }",
        "kept": ["kept", 3, True, None],
        "nested": {"count": "${ .items | length }", "now": "${ now }"},
    }
    assert ex.joined(template) is not None
    data, args = {"items": [4, 5]}, {"n": 1}
    expected = {
        "first": 4,
        "next": 2,
        "kept": ["kept", 3, True, None],
        "nested": {"count": 2, "now": 1_700_000_000.5},
    }
    assert evaluator().template(template, data, args, instance="/x") == expected
    nothing = {"none": "${ empty }", "some": "${ 1 }"}  # the object yields nothing
    assert evaluator().template(nothing, {}, {}, instance="/x") == {"none": None, "some": 1}
    assert ex.joined({"only": "${ .a }", "literal": "b"}) is None  # one expression: no gain
    assert ex.joined({"a": "${ .a }", "b": "${ .b }", "ratio": 0.5}) is None  # floats stay
    assert ex.joined({"a": "${ .a }", "b": ["${ .b }"]}) is None  # an array takes all


def test_a_joined_template_that_fails_names_the_failing_expression() -> None:
    template = {"good": "${ .a }", "bad": "${ .a | keys }"}
    with pytest.raises(Fault) as caught:
        evaluator().template(template, {"a": 1}, {}, instance="/do/0/x")
    assert caught.value.problem.detail.startswith("expression '.a | keys' failed")
    assert caught.value.problem.instance == "/do/0/x"


def test_a_trailing_comment_ends_at_its_line() -> None:
    ev = evaluator()
    assert ev.field("${ .a + 1 # one more }", {"a": 1}, {}, instance="/x") == 2
    assert ev.field(".a # the answer", {"a": 42}, {}, instance="/x") == 42
    assert ex.compile_error(".a # the answer", ex.TASK_OUTPUT) is None


def test_data_the_fast_encoder_refuses_still_reaches_jq() -> None:
    # Integers beyond 64 bits go through the standard library's encoder instead.
    data = {"n": 2**70, "m": {1: "one"}}
    assert evaluator().run(".n > 2000000000000000000000", data, {}, instance="/x") is False
    assert evaluator().run(".n > 1000000000000000000000", data, {}, instance="/x") is True
    assert evaluator().run('.m["1"]', data, {}, instance="/x") == "one"
