"""`run: shell` and `run: script`: stdin, arguments, environment, `return`, and the opt-in."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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


async def test_a_non_zero_exit(engine: Engine) -> None:
    error = await engine.fault(_exit(3, "stdout"))
    assert (error["type"], error["status"], error["instance"]) == (RUNTIME, 500, "/do/0/failing")
    assert "exited with code 3" in error["detail"]
    assert "went wrong" in error["detail"]
    assert await engine.run(_exit(3, "code")) == 3
    assert await engine.run(_exit(3, "all")) == {
        "code": 3,
        "stdout": "out\n",
        "stderr": "went wrong\n",
    }


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
    assert error["type"] == "https://serverlessworkflow.io/spec/1.0.0/errors/configuration"
    assert error["instance"] == "/do/1/runShell"
    assert "STIGMER_ALLOW_RUN_PROCESSES=true" in error["detail"]
    assert validate_text(SHELL.replace("RETURN", "stdout")) == []


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
