"""From outside, with real `stigmer` processes: a definition starts no process and reads or
writes no file its worker's operator did not allow (issue 23, findings 1 and 8).

On the default platforms (`stigmer server`, and `stigmer worker` apart from the API) an
Agent whose MCP stdio tool is a shell that would steal the worker credential, and
workflows whose tasks start processes or read files, all fail with the typed
`permission` error naming the flag, once, and leave no trace. On a platform whose
operator allowed this Python and one directory, what was allowed runs, and no PATH,
working directory, link, `..` or percent-encoding reaches past it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import Client
from stigmer.contract.problems import PERMISSION
from stigmer.engine.validation import parse_workflow
from stigmer.local.embedded import EmbeddedTemporal
from stigmer.resources.values import to_json
from tests.handshake.helpers import script
from tests.security.platforms import SCRIPTED, ServedPlatform, permitted_platform, started
from tests.support.cli import run_cli_async

pytestmark = [pytest.mark.temporal, pytest.mark.timeout(600)]

NOTES_SERVER = Path(__file__).parents[1] / "agents" / "notes_server.py"
HEADER = "document: {dsl: '1.0.3', namespace: attack, name: attack, version: '1.0.0'}\ndo:\n"


@pytest.fixture(scope="module")
async def permitted(
    temporal_server: EmbeddedTemporal, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServedPlatform]:
    """Its operator allows this Python and the files under ROOT/allowed, nothing else."""
    root = tmp_path_factory.mktemp("permitted")
    (root / "allowed").mkdir()
    platform = permitted_platform(temporal_server.address, root, [sys.executable], root / "allowed")
    await started(platform)
    try:
        yield platform
    finally:
        await platform.stop()


def allowed_dir(platform: ServedPlatform) -> Path:
    return platform.data_dir.parent / "allowed"


async def stigmer(platform: ServedPlatform, *args: str) -> tuple[int, str, str]:
    """`stigmer ARGS` against the platform, as its user runs it."""
    env = {"STIGMER_ADDRESS": platform.loopback}
    if platform.user_token:
        env["STIGMER_API_TOKEN"] = platform.user_token
    return await run_cli_async(*args, **env)


def refused(execution: pb.Execution, *, flag: str) -> str:
    """The detail of the permission error the execution failed with."""
    assert execution.status.phase == pb.FAILED, execution.status
    error = execution.status.error
    assert (error.type, error.status) == (PERMISSION, 403), error
    assert flag in error.detail, error.detail
    return error.detail


async def run_flow(client: Client, tasks: str) -> pb.Execution:
    run = await client.run_workflow(document=parse_workflow(HEADER + tasks))
    return await client.wait(run.execution.id)


async def run_agent(client: Client, name: str, spec: dict[str, Any], message: str) -> pb.Execution:
    await client.apply("agent", name, spec)
    created = await client.run_agent(name, message)
    return await client.wait(created.execution.id)


def attempts_logged(platform: ServedPlatform, execution_id: str) -> int:
    """How many runs of the agent ended in failure, by the runner's log."""
    return sum(
        "agent failed" in line and execution_id in line for line in platform.logs().splitlines()
    )


# --------------------------------------------------------------- the default platforms


async def test_an_agent_cannot_start_a_shell_to_steal_the_worker_credential(
    served: ServedPlatform, tmp_path: Path
) -> None:
    """Finding 1 as reported: applied with `stigmer apply`, run with `stigmer agent run`."""
    marker, stolen = tmp_path / "MARKER", tmp_path / "STOLEN"
    credential = served.data_dir / "worker-token"
    agent = tmp_path / "agent.yaml"
    command = f"touch {marker}; cat {credential} > {stolen}"
    agent.write_text(
        "apiVersion: stigmer.dev/v1\nkind: Agent\nmetadata: {name: shell-tool}\nspec:\n"
        "  model: test\n  tools:\n"
        f"    - mcp: {{name: sh, command: /bin/sh, args: [-c, {json.dumps(command)}], "
        "allow: [anything]}\n"
    )
    code, out, err = await stigmer(served, "apply", "-f", str(agent))
    assert code == 0, err
    assert "agent/shell-tool applied" in out
    assert "warning: " in err and "`--allow-process /bin/sh`" in err, err

    code, out, err = await stigmer(served, "agent", "run", "shell-tool", "hello", "-o", "json")
    assert code == 1, (out, err)
    error = json.loads(out)
    assert (error["type"], error["status"]) == (PERMISSION, 403)
    assert "the MCP server 'sh' starts '/bin/sh'" in error["detail"]
    assert "`--allow-process /bin/sh`" in error["detail"]
    assert "STIGMER_ALLOW_PROCESSES=/bin/sh" in error["detail"]
    assert not marker.exists() and not stolen.exists()

    async with served.client() as client:
        (execution,) = (await client.list_executions(target="shell-tool")).executions
    refused(execution, flag="--allow-process")
    assert attempts_logged(served, execution.id) == 1, "a refusal is final: no retry"


async def test_a_workflow_starts_no_process(served: ServedPlatform, tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    tasks = {
        "shell": f"  - shell:\n      run:\n        shell: {{command: 'touch {marker}'}}\n",
        "script": (
            "  - script:\n      run:\n        script:\n          language: python\n"
            f'          code: \'open("{marker}", "w")\'\n'
        ),
        "mcp": (
            "  - mcp:\n      call: mcp\n      with:\n        method: tools/list\n"
            "        transport:\n          stdio:\n            command: /bin/sh\n"
            f"            arguments: ['-c', 'touch {marker}']\n"
        ),
    }
    async with served.client() as client:
        for name, task in tasks.items():
            execution = await run_flow(client, task)
            detail = refused(execution, flag="--allow-process")
            assert execution.status.error.instance == f"/do/0/{name}"
            assert "STIGMER_ALLOW_PROCESSES" in detail
    assert not marker.exists()


async def test_a_workflow_reads_no_file_of_the_worker(served: ServedPlatform) -> None:
    credential = served.data_dir / "worker-token"
    tasks = (
        "  - openapi:\n      call: openapi\n      with:\n"
        f"        document: {{endpoint: '{credential.as_uri()}'}}\n        operationId: x\n",
        "  - grpc:\n      call: grpc\n      with:\n"
        f"        proto: {{endpoint: '{credential.as_uri()}'}}\n"
        "        service: {name: s.S, host: 127.0.0.1, port: 1}\n        method: M\n",
        "  - script:\n      run:\n        script:\n          language: python\n"
        f"          source: {{endpoint: '{credential.as_uri()}'}}\n",
    )
    async with served.client() as client:
        for task in tasks:
            execution = await run_flow(client, task)
            flag = "--allow-process" if "script" in task else "--allow-files"
            detail = refused(execution, flag=flag)
            assert served.worker_credential() not in detail
            assert served.worker_credential() not in str(execution)


async def test_the_scripted_agent_writes_no_mark_outside(
    served: ServedPlatform, tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    async with served.client() as client:
        execution = await run_agent(client, "scripted", SCRIPTED, script(mark=str(marks)))
    detail = refused(execution, flag="--allow-files")
    assert "the scripted agent's 'mark'" in detail
    assert not marks.exists()


# ------------------------------------------------------------- an operator that allows


async def test_what_the_operator_allowed_runs(permitted: ServedPlatform) -> None:
    allowed = allowed_dir(permitted)
    (allowed / "hello.py").write_text("import sys\nprint('hello', sys.argv[1])\n")
    notes = {
        "name": "notes",
        "command": sys.executable,
        "args": [str(NOTES_SERVER)],
        "env": {"NOTES_SHELF": "blue"},
        "allow": ["add_note"],
    }
    async with permitted.client() as client:
        ran = await run_flow(
            client,
            "  - script:\n      run:\n        script:\n          language: python\n"
            f"          source: {{endpoint: '{(allowed / 'hello.py').as_uri()}'}}\n"
            "          arguments: [world]\n",
        )
        assert ran.status.phase == pb.COMPLETED, ran.status.error
        assert to_json(ran.status.structured) == "hello world\n"

        spec = {"model": "test", "tools": [{"mcp": notes}]}
        message = script(tool_args={"add_note": {"text": "tides"}})
        noted = await run_agent(client, "note-taker", spec, message)
        assert noted.status.phase == pb.COMPLETED, noted.status.error
        assert "noted (1 notes, shelf blue)" in noted.status.output

        marked = await run_agent(client, "scripted", SCRIPTED, script(mark=str(allowed / "m")))
        assert marked.status.phase == pb.COMPLETED, marked.status.error
    assert (allowed / "m").read_text() == f"{marked.id} 1\n"


async def test_no_path_working_directory_or_link_makes_a_shell_of_the_allowed_python(
    permitted: ServedPlatform, tmp_path: Path
) -> None:
    """`python` is allowed as this Python: a link by that name to /bin/sh, found through a
    PATH or a working directory the definition chooses, is still /bin/sh."""
    marker = tmp_path / "MARKER"
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / Path(sys.executable).name).symlink_to("/bin/sh")
    name = Path(sys.executable).name
    touch = ["-c", f"touch {marker}"]
    servers = {
        "by-path": {"command": name, "env": {"PATH": str(evil)}},
        "by-cwd": {"command": f"./{name}", "cwd": str(evil)},
        "by-link": {"command": str(evil / name)},
        "by-dots": {"command": f"{evil}/../evil/{name}"},
        "plain-sh": {"command": "sh"},
    }
    async with permitted.client() as client:
        for agent, server in servers.items():
            tool = {"mcp": {"name": "x", "args": touch, "allow": ["x"], **server}}
            execution = await run_agent(client, agent, {"model": "test", "tools": [tool]}, "hi")
            refused(execution, flag="--allow-process")
        flow = await run_flow(
            client,
            "  - mcp:\n      call: mcp\n      with:\n        method: tools/list\n"
            f"        transport:\n          stdio:\n            command: {name}\n"
            f"            arguments: ['-c', 'touch {marker}']\n"
            f"            environment: {{PATH: '{evil}'}}\n",
        )
        refused(flow, flag="--allow-process")
        shell = await run_flow(
            client, f"  - shell:\n      run:\n        shell: {{command: 'touch {marker}'}}\n"
        )
        refused(shell, flag="--allow-process /bin/sh")
    assert not marker.exists()


async def test_no_dots_encoding_or_link_reads_past_the_allowed_directory(
    permitted: ServedPlatform,
) -> None:
    allowed = allowed_dir(permitted)
    credential = permitted.data_dir / "worker-token"
    (allowed / "token-link").symlink_to(credential)
    (allowed / "data-link").symlink_to(permitted.data_dir)
    documents = (
        f"file://{allowed}/../data/worker-token",
        f"file://{allowed}/%2e%2e/data/worker-token",
        f"file://localhost{allowed}/..%2Fdata%2Fworker-token",
        (allowed / "token-link").as_uri(),
        f"file://{allowed}/data-link/worker-token",
    )
    async with permitted.client() as client:
        for uri in documents:
            openapi = await run_flow(
                client,
                "  - openapi:\n      call: openapi\n      with:\n"
                f"        document: {{endpoint: '{uri}'}}\n        operationId: x\n",
            )
            refused(openapi, flag="--allow-files")
            assert permitted.worker_credential() not in str(openapi)
        grpc = await run_flow(
            client,
            "  - grpc:\n      call: grpc\n      with:\n"
            f"        proto: {{endpoint: '{(allowed / 'token-link').as_uri()}'}}\n"
            "        service: {name: s.S, host: 127.0.0.1, port: 1}\n        method: M\n",
        )
        refused(grpc, flag="--allow-files")
        outside = permitted.data_dir.parent / "outside"
        outside.mkdir(exist_ok=True)
        (allowed / "out-link").symlink_to(outside)
        for mark in (f"{allowed}/../outside/m", f"{allowed}/out-link/m"):
            execution = await run_agent(client, "scripted", SCRIPTED, script(mark=mark))
            refused(execution, flag="--allow-files")
    assert not (outside / "m").exists()
