r"""`run: script`: a Python or JavaScript script, run in an engine activity.

    - compute:
        run:
          script:
            language: python               # or js / javascript (run by `node`)
            code: |
              import sys; print(sys.argv[1:], sys.stdin.read())
            # source: {endpoint: file:///srv/scripts/compute.py}   instead of code
            stdin: ${ .data }
            arguments: [hello]
            environment: {foo: bar}
          return: all

The code is written to a file in a temporary directory, which is also the working
directory, and run as `python FILE ARGS...` (the worker's own interpreter) or
`node FILE ARGS...`, so `sys.argv[1:]` and `process.argv.slice(2)` are the arguments.
`code` is code, not an expression: it is never evaluated, so `${ }` in JavaScript stays
itself. A worker without `node` faults a JavaScript task with a configuration error. The
worker must allow the interpreter (which allows any code) and, for a `source` file, its
directory; permissions, output and `await`: see `stigmer.engine.outbound.process`.
"""

from __future__ import annotations

import functools
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from stigmer.contract.problems import CONFIGURATION
from stigmer.engine.models import RunScript, RunTask
from stigmer.engine.outbound import process
from stigmer.engine.outbound.remote import Request, activity_of, call_activity
from stigmer.engine.outbound.resources import load_resource
from stigmer.engine.outbound.secrets import defer
from stigmer.engine.outbound.web import resolve_uri
from stigmer.engine.tasktype import Checks, Services, TaskScope, TaskType, plain

ACTIVITY = "stigmer/engine/run-script"
LANGUAGES = {"python": ".py", "js": ".js", "javascript": ".js"}
INTERPRETERS = {
    "python": ("the engine worker's own Python interpreter", "PATH-OF-THAT-PYTHON"),
    "js": ("node", "node"),
    "javascript": ("node", "node"),
}
"""What each language starts, as validation names it (and the value its operator allows)."""


class ScriptTask(RunTask):
    run: RunScript


async def run(task: ScriptTask, input: Any, scope: TaskScope) -> Any:
    script = plain(task.run.script)
    code = script.pop("code", None)
    source = script.pop("source", None)
    request = {
        **defer(script, input, scope),
        "code": code,
        "return": task.run.return_ or "stdout",
        "await": task.run.await_ is not False,
    }
    if isinstance(source, dict):
        endpoint = source.get("endpoint")
        request["source"] = {"endpoint": {"uri": resolve_uri(endpoint, input, scope)}}
    output = await call_activity(ACTIVITY, request, scope)
    return output if task.run.await_ is not False else input


async def perform(request: Request, services: Services) -> Any:
    """Write the script to a file and run it with its language's interpreter, if the
    worker allows that interpreter."""
    args = request.args
    language = str(args.get("language", "")).lower()
    if language not in LANGUAGES:
        raise request.fault(
            CONFIGURATION,
            f"script language {args.get('language')!r} is not supported; use "
            f"{', '.join(LANGUAGES)}",
        )
    found = sys.executable if language == "python" else shutil.which("node")
    if found is None:
        raise request.fault(
            CONFIGURATION,
            "a JavaScript script needs Node.js, and `node` is not on the engine worker's PATH",
        )
    interpreter = services.permissions.command(found, what=f"'run: script' ({language})")
    code = args.get("code")
    if code is None and isinstance(args.get("source"), dict):
        content, _ = await load_resource(
            args["source"], request, services.permissions, what="'run: script'"
        )
        code = content.decode("utf-8", errors="replace")
    if not isinstance(code, str):
        raise request.fault(CONFIGURATION, "the script needs 'code' or 'source'")
    work = tempfile.mkdtemp(prefix="stigmer-script-")
    removed = functools.partial(shutil.rmtree, work, ignore_errors=True)
    path = Path(work) / f"script{LANGUAGES[language]}"
    path.write_text(code, encoding="utf-8")
    argv = [interpreter, str(path), *process.arguments(request)]
    what = f"the {language} script"
    if request.args.get("await") is False:
        # The folder goes once the script has ended, not when this activity returns.
        await process.start(argv, request, what=what, cwd=work, cleanup=removed)
        return None
    try:
        return await process.run(argv, request, what=what, cwd=work)
    finally:
        removed()


def check(task: ScriptTask, pointer: str, checks: Checks) -> None:
    script = plain(task.run.script)
    where = f"{pointer}/run/script"
    language = script.get("language")
    if isinstance(language, str) and language.lower() not in LANGUAGES:
        checks.add(
            f"{where}/language",
            f"script language {language!r} is not supported; use {', '.join(LANGUAGES)}",
        )
    if isinstance(language, str) and language.lower() in INTERPRETERS:
        program, allow_as = INTERPRETERS[language.lower()]
        checks.starts_process(program, f"{where}/language", allow_as=allow_as)
    source = script.get("source")
    if isinstance(source, dict):
        checks.reads_file(source.get("endpoint"), f"{where}/source/endpoint")
    if isinstance(source, dict) and isinstance(source.get("endpoint"), dict):
        policy = source["endpoint"].get("authentication")
        if policy is not None:
            checks.authentication(policy, f"{where}/source/endpoint/authentication")
    # `code` is code, not expressions.
    checks.arguments({k: v for k, v in script.items() if k != "code"}, where)


TASK = TaskType(
    kind="run",
    variant="script",
    model=ScriptTask,
    run=run,
    check=check,
    activities=activity_of(ACTIVITY, perform),
    example="""
document: {dsl: '1.0.3', namespace: examples, name: run-script, version: '1.0.0'}
do:
  - runScript:
      run:
        script:
          language: python
          arguments: [hello, world]
          code: |
            import sys
            print("arguments:", sys.argv[1:])
        return: all
""",
)
