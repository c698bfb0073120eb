"""`run: shell` and `run: script`: stdin, arguments, environment, `return`, and the opt-in."""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from pathlib import Path

import pytest

from stigmer.contract.problems import PERMISSION
from stigmer.engine.validation import validate_text
from tests.support.engine import Engine, document

pytestmark = pytest.mark.temporal

RUNTIME = "https://serverlessworkflow.io/spec/1.0.0/errors/runtime"

SHELL = document(
    """
  - setInput:
      set:
        message: Hello World
  - runShell:
      input:
        from: ${ .message }
      run:
        shell:
          stdin: ${ . }
          command: |
            input=$(cat)
            echo "STDIN was: $input"
            echo "ARGS are $1 $2"
            echo "LEVEL is ${LEVEL:-unset}" >&2
          arguments:
          - Foo
          - Bar
          environment:
            LEVEL: debug
        return: RETURN
"""
)


async def test_shell_with_stdin_arguments_and_environment(engine: Engine) -> None:
    # The spec's run-shell-stdin-and-arguments example, with `return: all`.
    output = await engine.run(SHELL.replace("RETURN", "all"))
    assert output == {
        "code": 0,
        "stdout": "STDIN was: Hello World\nARGS are Foo Bar\n",
        "stderr": "LEVEL is debug\n",
    }
    assert await engine.run(SHELL.replace("RETURN", "stdout")) == (
        "STDIN was: Hello World\nARGS are Foo Bar\n"
    )
    assert await engine.run(SHELL.replace("RETURN", "stderr")) == "LEVEL is debug\n"
    assert await engine.run(SHELL.replace("RETURN", "code")) == 0
    assert await engine.run(SHELL.replace("RETURN", "none")) is None


def _exit(code: int, mode: str) -> str:
    return document(
        f"""
  - failing:
      run:
        shell:
          command: 'echo out; echo "went wrong" >&2; exit {code}'
        return: {mode}
"""
    )


async def test_a_non_zero_exit_faults_when_the_output_cannot_tell(engine: Engine) -> None:
    # With `return: stdout` (the default) or `none`, the task's output says nothing of
    # the failure; the spec defines no error for it, so it is the runtime error.
    for mode in ("stdout", "none"):
        error = await engine.fault(_exit(3, mode))
        assert (error["type"], error["status"], error["instance"]) == (
            RUNTIME,
            500,
            "/do/0/failing",
        )
        assert "exited with code 3" in error["detail"]
        assert "went wrong" in error["detail"]


async def test_a_non_zero_exit_is_the_result_the_author_asked_for(engine: Engine) -> None:
    # dsl-reference.md, Run, `return`: "`stderr`: Outputs the content of the process
    # STDERR", "`code`: Outputs the process's exit code", "`all`: Outputs the exit code,
    # the STDOUT content and the STDERR content, wrapped into a new processResult".
    assert await engine.run(_exit(3, "stderr")) == "went wrong\n"
    assert await engine.run(_exit(3, "code")) == 3
    assert await engine.run(_exit(3, "all")) == {
        "code": 3,
        "stdout": "out\n",
        "stderr": "went wrong\n",
    }


async def test_await_false_starts_the_process_and_outputs_the_transformed_input(
    engine: Engine, tmp_path: Path
) -> None:
    # dsl-reference.md, Run, `await`: "When set to `false`, the task cannot wait for the
    # process to complete and thus cannot output the process's result. In this case, it
    # should simply output its transformed input."
    done = tmp_path / "done"
    flow = document(
        f"""
  - background:
      input:
        from: '${{ {{job: .id}} }}'
      run:
        shell:
          stdin: ${{ .job | tostring }}
          command: 'sleep 1; cat > {done}'
        await: false
"""
    )
    started = time.monotonic()
    assert await engine.run(flow, {"id": 7, "other": True}) == {"job": 7}
    assert time.monotonic() - started < 5
    assert not done.exists()  # it is still sleeping: the task did not wait
    for _ in range(100):
        if done.exists() and done.read_text() == "7":
            break
        await asyncio.sleep(0.1)
    assert done.read_text() == "7"


async def test_await_false_script_runs_to_its_end(engine: Engine, tmp_path: Path) -> None:
    done = tmp_path / "script-done"
    flow = document(
        f"""
  - background:
      run:
        script:
          language: python
          arguments: ["{done}"]
          code: |
            import pathlib, sys, time
            time.sleep(1)
            pathlib.Path(sys.argv[1]).write_text("ran")
        await: false
"""
    )
    assert await engine.run(flow, {"a": 1}) == {"a": 1}
    for _ in range(100):
        if done.exists():
            break
        await asyncio.sleep(0.1)
    assert done.read_text() == "ran"


async def test_the_worker_environment_does_not_leak(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STIGMER_SECRET_HIDDEN", "s3cret")
    flow = document(
        """
  - env:
      run:
        shell:
          command: 'echo "[${STIGMER_SECRET_HIDDEN:-}]"'
"""
    )
    assert await engine.run(flow) == "[]\n"


async def test_a_python_script(engine: Engine) -> None:
    flow = document(
        """
  - compute:
      run:
        script:
          language: python
          stdin: ${ .data | tojson }
          arguments: ["${ .factor | tostring }"]
          environment: {SUFFIX: "!"}
          code: |
            import json, os, sys
            data = json.load(sys.stdin)
            print(json.dumps([x * int(sys.argv[1]) for x in data]) + os.environ["SUFFIX"])
"""
    )
    assert await engine.run(flow, {"data": [1, 2], "factor": 3}) == "[3, 6]!\n"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
async def test_a_javascript_script(engine: Engine) -> None:
    # The spec's run-script-with-stdin-and-arguments example.
    flow = document(
        """
  - runScript:
      run:
        script:
          language: javascript
          stdin: "Hello Workflow"
          environment:
           foo: bar
          arguments:
          - hello
          code: |
            import { readFileSync } from 'node:fs';
            const stdin = readFileSync(process.stdin.fd, 'utf8');
            console.log('stdin > ', stdin)
            const [_, __, arg] = process.argv;
            console.log('arg > ', arg)
            console.log(`env > ${process.env.foo}`)
"""
    )
    assert await engine.run(flow) == "stdin >  Hello Workflow\narg >  hello\nenv > bar\n"


async def test_processes_are_off_by_default(locked_engine: Engine) -> None:
    error = await locked_engine.fault(SHELL.replace("RETURN", "stdout"))
    assert (error["type"], error["status"]) == (PERMISSION, 403)
    assert error["instance"] == "/do/1/runShell"
    assert "`--allow-process /bin/sh`" in error["detail"]
    assert "STIGMER_ALLOW_PROCESSES=/bin/sh" in error["detail"]
    assert validate_text(SHELL.replace("RETURN", "stdout")) == []


async def test_a_script_needs_its_interpreter_allowed(locked_engine: Engine) -> None:
    flow = document(
        """
  - compute:
      run:
        script: {language: python, code: "print(1)"}
"""
    )
    error = await locked_engine.fault(flow)
    assert (error["type"], error["instance"]) == (PERMISSION, "/do/0/compute")
    assert f"`--allow-process {sys.executable}`" in error["detail"]


async def test_javascript_without_node_is_a_clear_error(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    flow = document(
        """
  - js:
      run:
        script: {language: js, code: "console.log(1)"}
"""
    )
    error = await engine.fault(flow)
    assert error["type"] == "https://serverlessworkflow.io/spec/1.0.0/errors/configuration"
    assert "`node` is not on the engine worker's PATH" in error["detail"]
