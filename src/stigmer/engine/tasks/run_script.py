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
itself. A worker without `node` faults a JavaScript task with a configuration error.
Opt-in and output: see `stigmer.engine.tasks.process`.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from stigmer.contract.problems import CONFIGURATION
from stigmer.engine.tasks import TaskScope, http, process
from stigmer.engine.tasks.remote import Request, call_activity, load_resource
from stigmer.engine.tasks.secrets import defer

ACTIVITY = "stigmer/engine/run-script"
LANGUAGES = {"python": ".py", "js": ".js", "javascript": ".js"}


async def execute(task: dict[str, Any], input: Any, scope: TaskScope) -> Any:
    run = task["run"]
    script = dict(run["script"])
    code = script.pop("code", None)
    source = script.pop("source", None)
    request = {**defer(script, input, scope), "code": code, "return": run.get("return", "stdout")}
    if isinstance(source, dict):
        endpoint = source.get("endpoint")
        request["source"] = {"endpoint": {"uri": http.resolve_uri(endpoint, input, scope)}}
    return await call_activity(ACTIVITY, request, scope)


async def perform(request: Request, *, allowed: bool) -> Any:
    """Write the script to a file and run it with its language's interpreter."""
    if not allowed:
        raise process.processes_off("'run: script'", request)
    args = request.args
    language = str(args.get("language", "")).lower()
    if language not in LANGUAGES:
        raise request.fault(
            CONFIGURATION,
            f"script language {args.get('language')!r} is not supported; use "
            f"{', '.join(LANGUAGES)}",
        )
    interpreter = sys.executable if language == "python" else shutil.which("node")
    if interpreter is None:
        raise request.fault(
            CONFIGURATION,
            "a JavaScript script needs Node.js, and `node` is not on the engine worker's PATH",
        )
    code = args.get("code")
    if code is None and isinstance(args.get("source"), dict):
        content, _ = await load_resource(args["source"], request)
        code = content.decode("utf-8", errors="replace")
    if not isinstance(code, str):
        raise request.fault(CONFIGURATION, "the script needs 'code' or 'source'")
    with tempfile.TemporaryDirectory(prefix="stigmer-script-") as work:
        path = Path(work) / f"script{LANGUAGES[language]}"
        path.write_text(code, encoding="utf-8")
        argv = [interpreter, str(path), *process.arguments(request)]
        return await process.run(argv, request, what=f"the {language} script", cwd=work)
