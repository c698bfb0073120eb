"""Resource files: every problem named by file, line and field, all reported at once."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from stigmer.cli.definitions import workflow_errors
from stigmer.resources.definitions import Resource, content_version, load_resources
from stigmer.resources.source import SourceError, SourceErrors

AGENT = """\
apiVersion: stigmer.dev/v1
kind: Agent
metadata:
  name: {name}
spec:
  instructions: Summarize.
  model: test
"""

DSL = """\
document:
  dsl: 1.0.0
  namespace: test
  name: {name}
  version: 1.0.0
do:
  - greet:
      set:
        greeting: hello
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def load(*paths: Path) -> list[Resource]:
    return load_resources(list(paths), workflow_errors)


def problems(*paths: Path) -> list[SourceError]:
    with pytest.raises(SourceErrors) as caught:
        load(*paths)
    return caught.value.errors


def only(found: list[SourceError]) -> SourceError:
    assert len(found) == 1, found
    return found[0]


def test_a_valid_agent_is_loaded_with_its_place(tmp_path: Path) -> None:
    path = write(tmp_path, "agent.yaml", AGENT.format(name="summarizer"))
    [resource] = load(path)
    assert (resource.kind, resource.name) == ("Agent", "summarizer")
    assert resource.spec == {"instructions": "Summarize.", "model": "test"}
    assert (resource.file, resource.line) == (str(path), 1)


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "broken.yaml",
        """\
        apiVersion: stigmer.dev/v1
        kind: Agent
        metadata:
          name: a: b
        """,
    )
    error = only(problems(path))
    assert (error.file, error.line) == (str(path), 4)
    assert "not valid YAML" in error.message
    assert str(error).startswith(f"{path}:4: ")


def test_duplicate_keys_are_malformed(tmp_path: Path) -> None:
    path = write(tmp_path, "twice.yaml", AGENT.format(name="a") + "  model: other\n")
    error = only(problems(path))
    assert error.line == 8
    assert "not valid YAML" in error.message


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        (
            "apiVersion: stigmer.dev/v1\nkind: Gadget\nmetadata: {name: g}\nspec: {}\n",
            2,
            "/kind",
            "unknown kind 'Gadget'",
        ),
        (
            "apiVersion: stigmer.dev/v2\nkind: Agent\nmetadata: {name: g}\nspec: {model: test}\n",
            1,
            "/apiVersion",
            "must be 'stigmer.dev/v1'",
        ),
        (
            "apiVersion: stigmer.dev/v1\nkind: Agent\nmetadata:\n  labels: {a: b}\nspec: {model: test}\n",
            3,
            "/metadata/name",
            "is required",
        ),
        (
            "apiVersion: stigmer.dev/v1\nkind: Agent\nmetadata:\n  name: Not_Valid\nspec: {model: test}\n",
            4,
            "/metadata/name",
            "must be lowercase letters",
        ),
        (
            "apiVersion: stigmer.dev/v1\nkind: Agent\nmetadata:\n  name: a\n",
            1,
            "/spec",
            "is required",
        ),
        (
            "apiVersion: stigmer.dev/v1\nkind: Agent\nmetadata: {name: a}\nspec: {model: test}\nstatus: {}\n",
            5,
            "/status",
            "unknown field",
        ),
        (
            "apiVersion: stigmer.dev/v1\nkind: Agent\nmetadata:\n  name: a\n  labels:\n    team: x\n    tier: 2\nspec: {model: test}\n",
            7,
            "/metadata/labels/tier",
            "must be a string",
        ),
        (
            "apiVersion: stigmer.dev/v1\nkind: Agent\nmetadata:\n  name: a\n  annotations: [x]\nspec: {model: test}\n",
            5,
            "/metadata/annotations",
            "must be a mapping of strings",
        ),
    ],
    ids=[
        "unknown-kind",
        "api-version",
        "missing-name",
        "bad-name",
        "missing-spec",
        "extra-field",
        "number-label",
        "list-annotations",
    ],
)
def test_envelope_errors_name_file_line_and_field(
    tmp_path: Path, text: str, line: int, field: str, message: str
) -> None:
    path = write(tmp_path, "resource.yaml", text)
    error = only(problems(path))
    assert (error.file, error.line, error.field) == (str(path), line, field)
    assert message in error.message


@pytest.mark.parametrize(
    ("spec", "line", "field", "message"),
    [
        ("  model: test\n  entrypoint: pkg.mod:fn\n", 5, "/spec", "exactly one of"),
        ("  instructions: Summarize.\n", 5, "/spec", "exactly one of"),
        ("  entrypoint: pkg.mod.fn\n", 6, "/spec/entrypoint", "module:function"),
        ("  model: gpt-4\n", 6, "/spec/model", "provider:model"),
        ("  model: test\n  temperature: 0.2\n", 7, "/spec/temperature", "not permitted"),
        ("  model: test\n  deadline: soon\n", 7, "/spec/deadline", "duration"),
    ],
    ids=["both", "neither", "bad-entrypoint", "bad-model", "unknown-field", "bad-deadline"],
)
def test_agent_spec_errors_name_file_line_and_field(
    tmp_path: Path, spec: str, line: int, field: str, message: str
) -> None:
    text = "apiVersion: stigmer.dev/v1\nkind: Agent\nmetadata:\n  name: a\nspec:\n" + spec
    path = write(tmp_path, "agent.yaml", text)
    error = only(problems(path))
    assert (error.file, error.line, error.field) == (str(path), line, field)
    assert message in error.message


def test_broken_workflow_dsl_is_reported_at_its_line_in_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "flow.yaml",
        """\
        # a Workflow resource wrapping a DSL document
        apiVersion: stigmer.dev/v1
        kind: Workflow
        metadata:
          name: flow
        spec:
          document: {dsl: 1.0.0, namespace: test, name: flow, version: 1.0.0}
          do:
            - first:
                set: {a: 1}
            - second:
                call: teleport
        """,
    )
    error = only(problems(path))
    assert (error.file, error.line) == (str(path), 12)
    assert error.field == "/spec/do/1/second/call"
    assert "teleport" in error.message


def test_a_plain_dsl_file_is_a_workflow_named_by_its_document(tmp_path: Path) -> None:
    path = write(tmp_path, "plain.yaml", DSL.format(name="greeter"))
    [resource] = load(path)
    assert (resource.kind, resource.name) == ("Workflow", "greeter")
    assert resource.spec["do"] == [{"greet": {"set": {"greeting": "hello"}}}]


def test_a_plain_dsl_file_needs_a_valid_name(tmp_path: Path) -> None:
    path = write(tmp_path, "plain.yaml", DSL.format(name="Greeter_1"))
    found = problems(path)
    assert {(error.line, error.field) for error in found} == {(4, "/document/name")}
    assert any("must be lowercase letters" in error.message for error in found)


def test_duplicates_across_files_are_reported(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", AGENT.format(name="same"))
    second = write(tmp_path, "b.yaml", "---\n" + AGENT.format(name="same"))
    error = only(problems(first, second))
    assert (error.file, error.line, error.field) == (str(second), 5, "/metadata/name")
    assert f"also defined at {first}:1" in error.message


def test_same_name_of_another_kind_is_no_duplicate(tmp_path: Path) -> None:
    agent = write(tmp_path, "agent.yaml", AGENT.format(name="same"))
    workflow = write(tmp_path, "flow.yaml", DSL.format(name="same"))
    assert {(r.kind, r.name) for r in load(agent, workflow)} == {
        ("Agent", "same"),
        ("Workflow", "same"),
    }


def test_all_errors_of_all_files_are_reported_at_once(tmp_path: Path) -> None:
    write(tmp_path, "1-good.yaml", AGENT.format(name="good"))
    write(tmp_path, "2-broken.yaml", "kind: [\n")
    write(
        tmp_path,
        "3-many.yaml",
        AGENT.format(name="Bad_Name")
        + "---\n"
        + "apiVersion: stigmer.dev/v1\nkind: Gadget\nmetadata: {name: g}\nspec: {}\n",
    )
    write(tmp_path, "4-empty.yaml", "# nothing here\n")
    write(tmp_path, "notes.txt", "not a resource")
    found = problems(tmp_path)
    where = [(Path(e.file).name, e.line, e.field) for e in found]
    assert where == [
        ("2-broken.yaml", 2, ""),
        ("3-many.yaml", 4, "/metadata/name"),
        ("3-many.yaml", 10, "/kind"),
        ("4-empty.yaml", 0, ""),
    ]
    message = str(SourceErrors(found))
    assert message.count("\n") == 3


def test_content_version_is_stable_under_key_order() -> None:
    spec = {"model": "test", "env": {"A": "1", "B": "2"}, "instructions": "x"}
    reordered = {"instructions": "x", "env": {"B": "2", "A": "1"}, "model": "test"}
    assert content_version(spec) == content_version(reordered)
    assert content_version(spec) != content_version({**spec, "instructions": "y"})
    assert len(content_version(spec)) == 16
