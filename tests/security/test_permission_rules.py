"""The rules of `stigmer.permissions`: which command a definition may start and which file
it may read, resolved as the start or the read would, so a spelling cannot pass for an
allowed program or directory; and the warnings validation and `stigmer validate` give."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stigmer.config import load_settings
from stigmer.contract.problems import PERMISSION, Fault
from stigmer.engine.loader import load_text
from stigmer.engine.outbound.resources import local_path
from stigmer.engine.validation import review_document
from stigmer.permissions import Permissions
from stigmer.resources.agent import AgentSpec
from stigmer.resources.definitions import agent_spec_warnings
from tests.support.cli import run_cli
from tests.support.engine import document


def refusal(call: object) -> str:
    """The detail of the permission fault a check raised."""
    assert callable(call)
    with pytest.raises(Fault) as raised:
        call()
    problem = raised.value.problem
    assert (problem.type, problem.status) == (PERMISSION, 403)
    assert problem.detail is not None
    return problem.detail


def program(path: Path, body: str = "exit 0") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def tool(tmp_path: Path) -> Path:
    """An allowed program, `bin/tool`."""
    return program(tmp_path / "bin" / "tool")


# ------------------------------------------------------------------------------ commands


def test_nothing_is_allowed_by_default_and_the_refusal_names_the_flag() -> None:
    detail = refusal(lambda: Permissions().command("/bin/sh", what="'run: shell'"))
    assert detail.startswith("'run: shell' starts '/bin/sh', which this worker does not allow")
    assert "(allowed commands: none)" in detail
    assert "`--allow-process /bin/sh`" in detail
    assert "STIGMER_ALLOW_PROCESSES=/bin/sh" in detail


def test_a_command_is_found_as_its_start_would_and_the_checked_path_is_returned(
    tool: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = str(tool.parent)
    allowed = Permissions((str(tool),))
    assert allowed.command("tool", what="x", search_path=bin_dir) == str(tool)
    assert allowed.command("./tool", what="x", cwd=bin_dir) == f"{bin_dir}/./tool"
    assert allowed.command("../bin/tool", what="x", cwd=bin_dir) == f"{bin_dir}/../bin/tool"
    # An entry given by name is looked up on the worker's own PATH.
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert Permissions(("tool",)).command(str(tool), what="x") == str(tool)


def test_another_program_by_the_allowed_name_is_refused(tool: Path, tmp_path: Path) -> None:
    """A PATH, a working directory or a link the definition chooses cannot make the
    allowed name start another program."""
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "tool").symlink_to("/bin/sh")
    program(tmp_path / "copy" / "tool", "echo copied")
    allowed = Permissions((str(tool),))
    refusal(lambda: allowed.command("tool", what="x", search_path=str(evil)))
    refusal(lambda: allowed.command("./tool", what="x", cwd=str(evil)))
    refusal(lambda: allowed.command(str(evil / "tool"), what="x"))
    refusal(lambda: allowed.command(str(tmp_path / "copy" / "tool"), what="x"))
    refusal(lambda: allowed.command("sh", what="x"))


def test_the_same_program_must_be_called_by_the_allowed_name(tool: Path, tmp_path: Path) -> None:
    """A multi-call program does what the name it is called by says: a link to the
    allowed program under another name is refused, one under the same name is not."""
    (tmp_path / "alias").symlink_to(tool)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "tool").symlink_to(tool)
    allowed = Permissions((str(tool),))
    refusal(lambda: allowed.command(str(tmp_path / "alias"), what="x"))
    assert allowed.command(str(tmp_path / "elsewhere" / "tool"), what="x").endswith("/tool")


def test_any_command_only_with_a_star_and_unknown_entries_match_nothing(tool: Path) -> None:
    assert Permissions(("*",)).command("sh", what="x").endswith("/sh")
    assert Permissions(("*",)).command("no-such-program", what="x") == "no-such-program"
    missing = Permissions(("/no/such/tool",))
    refusal(lambda: missing.command("/no/such/tool", what="x"))
    for nonsense in ("", "sh\0", "/bin/sh\0"):
        refusal(lambda nonsense=nonsense: Permissions(("/bin/sh",)).command(nonsense, what="x"))


# --------------------------------------------------------------------------------- files


@pytest.fixture
def allowed_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "allowed"
    folder.mkdir()
    (folder / "doc.yaml").write_text("ok")
    (tmp_path / "secret").write_text("token")
    return folder


def test_a_file_inside_an_allowed_directory_is_resolved(allowed_dir: Path) -> None:
    files = Permissions(files=(allowed_dir,))
    assert files.file(allowed_dir / "doc.yaml", what="x") == allowed_dir / "doc.yaml"
    assert files.file(allowed_dir / "sub" / "new", what="x") == allowed_dir / "sub" / "new"
    link = allowed_dir.parent / "link-to-allowed"
    link.symlink_to(allowed_dir)
    assert Permissions(files=(link,)).file(allowed_dir / "doc.yaml", what="x").name == "doc.yaml"


def test_no_spelling_reaches_outside_the_allowed_directories(allowed_dir: Path) -> None:
    (allowed_dir / "escape").symlink_to(allowed_dir.parent / "secret")
    (allowed_dir / "up").symlink_to(allowed_dir.parent)
    (allowed_dir.parent / "allowed2").mkdir()
    files = Permissions(files=(allowed_dir,))
    for path in (
        allowed_dir / ".." / "secret",
        allowed_dir / "escape",
        allowed_dir / "up" / "secret",
        allowed_dir.parent / "allowed2" / "x",
        f"{allowed_dir}/\0",
    ):
        detail = refusal(lambda path=path: files.file(path, what="'call: openapi'"))
        assert "outside the directories this worker allows" in detail
        assert "`--allow-files DIR`" in detail and "STIGMER_ALLOW_FILES=DIR" in detail
    assert "(allowed: none)" in refusal(lambda: Permissions().file(allowed_dir, what="x"))


def test_file_urls_are_decoded_before_the_check(allowed_dir: Path) -> None:
    files = Permissions(files=(allowed_dir,))
    inside = local_path(f"file://localhost{allowed_dir}/doc.yaml")
    assert inside is not None and files.file(inside, what="x") == allowed_dir / "doc.yaml"
    for uri in (
        f"file://{allowed_dir}/%2e%2e/secret",
        f"file://{allowed_dir}/%2E%2E%2Fsecret",
        f"file:{allowed_dir}/../secret",
        f"file://{allowed_dir}/..%2fsecret",
    ):
        path = local_path(uri)
        assert path is not None
        refusal(lambda path=path: files.file(path, what="x"))


# ------------------------------------------------------------------------------ settings


def test_the_settings_read_comma_separated_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert load_settings().allow_processes == [] and load_settings().allow_files == []
    monkeypatch.setenv("STIGMER_ALLOW_PROCESSES", "/bin/sh, node,,")
    monkeypatch.setenv("STIGMER_ALLOW_FILES", f"{tmp_path},~/docs")
    settings = load_settings()
    assert settings.allow_processes == ["/bin/sh", "node"]
    assert settings.allow_files == [tmp_path, Path("~/docs").expanduser()]
    assert Permissions.of(settings) == Permissions(("/bin/sh", "node"), tuple(settings.allow_files))
    flags = load_settings(allow_processes=["python3"], allow_files=[tmp_path / "x"])
    assert (flags.allow_processes, flags.allow_files) == (["python3"], [tmp_path / "x"])


# ---------------------------------------------------------------------------- validation

WARNED = document(
    """
  - shell:
      run:
        shell: {command: echo hi}
  - script:
      run:
        script: {language: python, code: "print(1)"}
  - mcp:
      call: mcp
      with:
        method: tools/list
        transport: {stdio: {command: npx, arguments: [server]}}
  - openapi:
      call: openapi
      with:
        document: {endpoint: "file:///srv/api.yaml"}
        operationId: x
  - grpc:
      call: grpc
      with:
        proto: {endpoint: "${ .proto }"}
        service: {name: s.S, host: localhost, port: 1}
        method: M
  - remote:
      call: openapi
      with:
        document: {endpoint: "https://example.test/api.yaml"}
        operationId: x
"""
)


def test_validation_warns_of_each_process_and_file_and_finds_no_error() -> None:
    review = review_document(load_text(WARNED, source="flow.yaml"))
    assert review.errors == []
    warned = {w.task: w.message for w in review.warnings}
    assert set(warned) == {
        "/do/0/shell",
        "/do/1/script",
        "/do/2/mcp",
        "/do/3/openapi",
        "/do/4/grpc",
    }
    assert "`--allow-process /bin/sh`" in warned["/do/0/shell"]
    assert "allows any command" in warned["/do/0/shell"]
    assert "Python interpreter" in warned["/do/1/script"]
    assert "`--allow-process npx`" in warned["/do/2/mcp"]
    assert "'file:///srv/api.yaml'" in warned["/do/3/openapi"]
    assert "`--allow-files DIR`" in warned["/do/3/openapi"]
    assert "expression" in warned["/do/4/grpc"]
    assert review.warnings[0].line == 6  # the line of the command


def test_an_agent_that_starts_a_process_is_warned_of() -> None:
    spec = AgentSpec.model_validate(
        {
            "model": "test",
            "tools": [
                "write_todos",
                {"mcp": {"name": "web", "url": "http://127.0.0.1:1/mcp", "allow": ["a"]}},
                {"mcp": {"name": "files", "command": "npx", "allow": ["read"]}},
            ],
        }
    )
    ((path, message),) = agent_spec_warnings(spec)
    assert path == ("tools", 2, "mcp", "command")
    assert "the MCP server 'files' starts 'npx' on the runner" in message
    assert "`--allow-process npx`" in message


def test_stigmer_validate_warns_and_passes(tmp_path: Path) -> None:
    flow = tmp_path / "flow.yaml"
    flow.write_text(WARNED)
    agent = tmp_path / "agent.yaml"
    agent.write_text(
        "apiVersion: stigmer.dev/v1\nkind: Agent\nmetadata: {name: shell}\nspec:\n"
        "  model: test\n  tools:\n"
        "    - mcp: {name: sh, command: /bin/sh, args: [-c, id], allow: [x]}\n"
    )
    done = run_cli("validate", str(flow), str(agent))
    assert done.returncode == 0, done.stderr
    assert f"ok {flow}" in done.stdout and f"ok {agent}" in done.stdout
    lines = [line for line in done.stderr.splitlines() if line.startswith("warning: ")]
    assert len(lines) == 6, done.stderr
    assert f"warning: {flow}:6: task /do/0/shell: starts '/bin/sh'" in done.stderr
    assert f"warning: {agent}:7: /spec/tools/0/mcp/command: the MCP server 'sh'" in done.stderr


def test_server_and_worker_take_the_flags() -> None:
    for command in ("server", "worker"):
        shown = run_cli(command, "--help", COLUMNS="200")
        assert shown.returncode == 0, shown.stderr
        assert "--allow-process" in shown.stdout and "STIGMER_ALLOW_PROCESSES" in shown.stdout
        assert "--allow-files" in shown.stdout and "STIGMER_ALLOW_FILES" in shown.stdout
