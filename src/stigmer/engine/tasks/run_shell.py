r"""`run: shell`: a shell command, run by `/bin/sh -c` in an engine activity.

    - report:
        run:
          shell:
            command: 'input=$(cat); echo "STDIN was: $input, ARGS are $1 $2"'
            stdin: ${ .message }
            arguments: [Foo, Bar]          # $1, $2, ... in the command
            environment: {LEVEL: debug}
          return: stdout                   # stderr, code, all, none
          await: true                      # false: start it, do not wait

The command is an argument like any other: a `${ ... }` command is evaluated, any other is
run as written (shell `${VAR}` inside it stay the shell's). The worker must allow `/bin/sh`
(which allows any command); permissions, output and `await`: see
`stigmer.engine.outbound.process`.
"""

from __future__ import annotations

from typing import Any

from stigmer.contract.problems import CONFIGURATION
from stigmer.engine.models import RunShell, RunTask
from stigmer.engine.outbound import process
from stigmer.engine.outbound.remote import Request, activity_of, call_activity
from stigmer.engine.outbound.secrets import defer
from stigmer.engine.tasktype import Checks, Services, TaskScope, TaskType, plain

ACTIVITY = "stigmer/engine/run-shell"
SHELL = "/bin/sh"


class ShellTask(RunTask):
    run: RunShell


async def run(task: ShellTask, input: Any, scope: TaskScope) -> Any:
    request = {
        **defer(plain(task.run.shell), input, scope),
        "return": task.run.return_ or "stdout",
        "await": task.run.await_ is not False,
    }
    output = await call_activity(ACTIVITY, request, scope)
    return output if task.run.await_ is not False else input


async def perform(request: Request, services: Services) -> Any:
    """Run the command, if the worker allows its shell."""
    shell = services.permissions.command(SHELL, what="'run: shell'")
    command = request.args.get("command")
    if not isinstance(command, str) or not command.strip():
        raise request.fault(CONFIGURATION, f"'command' must be a shell command, got {command!r}")
    argv = [shell, "-c", command, "sh", *process.arguments(request)]
    if request.args.get("await") is False:
        await process.start(argv, request, what="the shell command")
        return None
    return await process.run(argv, request, what="the shell command")


def check(task: ShellTask, pointer: str, checks: Checks) -> None:
    checks.starts_process(
        f"{SHELL!r} (allowing it allows any command)",
        f"{pointer}/run/shell/command",
        allow_as=SHELL,
    )
    checks.arguments(plain(task.run.shell), f"{pointer}/run/shell")


TASK = TaskType(
    kind="run",
    variant="shell",
    model=ShellTask,
    run=run,
    check=check,
    activities=activity_of(ACTIVITY, perform),
    example="""
document: {dsl: '1.0.3', namespace: examples, name: run-shell, version: '1.0.0'}
do:
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
          arguments: [Foo, Bar]
""",
)
