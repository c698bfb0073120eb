r"""`run: shell`: a shell command, run by `/bin/sh -c` in an engine activity.

    - report:
        run:
          shell:
            command: 'input=$(cat); echo "STDIN was: $input, ARGS are $1 $2"'
            stdin: ${ .message }
            arguments: [Foo, Bar]          # $1, $2, ... in the command
            environment: {LEVEL: debug}
          return: stdout                   # stderr, code, all, none

The command is an argument like any other: a `${ ... }` command is evaluated, any other is
run as written (shell `${VAR}` inside it stay the shell's). Opt-in and output: see
`stigmer.engine.tasks.process`.
"""

from __future__ import annotations

from typing import Any

from stigmer.contract.problems import CONFIGURATION
from stigmer.engine.tasks import TaskScope, process
from stigmer.engine.tasks.remote import Request, call_activity
from stigmer.engine.tasks.secrets import defer

ACTIVITY = "stigmer/engine/run-shell"
SHELL = "/bin/sh"


async def execute(task: dict[str, Any], input: Any, scope: TaskScope) -> Any:
    run = task["run"]
    request = {**defer(run["shell"], input, scope), "return": run.get("return", "stdout")}
    return await call_activity(ACTIVITY, request, scope)


async def perform(request: Request, *, allowed: bool) -> Any:
    """Run the command, if the platform allows processes."""
    if not allowed:
        raise process.processes_off("'run: shell'", request)
    command = request.args.get("command")
    if not isinstance(command, str) or not command.strip():
        raise request.fault(CONFIGURATION, f"'command' must be a shell command, got {command!r}")
    argv = [SHELL, "-c", command, "sh", *process.arguments(request)]
    return await process.run(argv, request, what="the shell command")
