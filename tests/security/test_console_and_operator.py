"""A local process against a loopback console and the API's audit, as an attacker would.

A console on loopback whose API requires a user token lends that token to no one: a POST
from any local process without it (or with a guessed one) completes nothing. An operator's
action is audited under the credential the call carried and the address it came from;
what the request says about its sender (`operator`) is kept only as a claim.
"""

from __future__ import annotations

import re

import grpc
import httpx
import pytest

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.api.v1 import stigmer_pb2_grpc as pb_grpc
from stigmer.console.access import TOKEN_COOKIE
from stigmer.contract.phases import TERMINAL
from stigmer.resources.values import to_json
from stigmer.user_token import fingerprint
from tests.handshake.helpers import agent_task, document, one_child, script
from tests.security.platforms import SCRIPTED, ServedPlatform

pytestmark = [pytest.mark.temporal, pytest.mark.timeout(300)]

PEER = r"from ipv4:127\.0\.0\.1:\d+"


async def a_waiting_call(platform: ServedPlatform) -> tuple[pb.Execution, pb.Execution]:
    """A workflow run, and the agent call its caller waits on (a minute long)."""
    async with platform.client() as client:
        await client.apply("agent", "scripted", SCRIPTED)
        run = await client.run_workflow(document=document(agent_task("ask", script(sleep=60))))
        return run.execution, await one_child(client, run.execution.id)


def audits(execution: pb.Execution) -> list[pb.AgentMessage]:
    return [message for message in execution.status.messages if message.role == "system"]


async def test_a_local_process_completes_nothing_through_a_loopback_console(
    guarded_served: ServedPlatform,
) -> None:
    platform = guarded_served
    run, call = await a_waiting_call(platform)
    same_site = {"origin": platform.console}  # what the CSRF check wants: it is not enough
    async with httpx.AsyncClient(base_url=platform.console) as http:
        forged = await http.post(
            f"/executions/{call.id}/complete", data={"output": "FORGED"}, headers=same_site
        )
        assert (forged.status_code, forged.text) == (401, "sign in first")
        for page in (f"/executions/{call.id}", f"/executions/{call.id}/result", "/stuck"):
            shown = await http.get(page)
            assert shown.status_code == 303, page
            assert shown.headers["location"] == f"/login?next={page}"
        http.cookies.set(TOKEN_COOKIE, "a-guessed-token-0123456789")
        guessed = await http.post(
            f"/executions/{call.id}/fail", data={"reason": "FORGED"}, headers=same_site
        )
        assert guessed.status_code == 303 and guessed.headers["location"] == "/login"

    async with platform.client() as client:
        for execution in (call, run):
            found = await client.execution(execution.id)
            assert found.status.phase not in TERMINAL, found.status
            assert audits(found) == []

    async with httpx.AsyncClient(base_url=platform.console) as http:
        signed_in = await http.post(
            "/login", data={"token": platform.user_token, "next": "/stuck"}, headers=same_site
        )
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/stuck"
        done = await http.post(
            f"/executions/{call.id}/fail", data={"reason": "by its owner"}, headers=same_site
        )
        assert done.status_code == 303
    async with platform.client() as client:
        (audit,) = audits(await client.execution(call.id))
        assert platform.user_token
        recorded = to_json(audit.data)
        assert re.fullmatch(
            f"user token {fingerprint(platform.user_token)} {PEER}", recorded["operator"]
        )
        assert recorded["claimed_operator"].startswith("console token ")
        assert (await client.wait(run.id)).status.phase == pb.FAILED


async def test_the_audit_names_the_credential_and_the_address_not_the_request(
    guarded_served: ServedPlatform, default_served: ServedPlatform
) -> None:
    """Through the generated stubs, as any client program: `operator` says alice@admin."""
    _, guarded_call = await a_waiting_call(guarded_served)
    _, cancelled_call = await a_waiting_call(default_served)
    _, failed_call = await a_waiting_call(default_served)
    assert guarded_served.user_token
    user = (("authorization", f"Bearer {guarded_served.user_token}"),)
    worker = (("authorization", f"Bearer {default_served.worker_credential()}"),)

    async with grpc.aio.insecure_channel(guarded_served.loopback) as channel:
        stub = pb_grpc.ExecutionServiceStub(channel)
        request = pb.CompleteExecutionRequest(
            id=guarded_call.id, output="by hand", operator="alice@admin", reason="stuck"
        )
        completed = await stub.Complete(request, metadata=user)
    async with grpc.aio.insecure_channel(default_served.loopback) as channel:
        stub = pb_grpc.ExecutionServiceStub(channel)
        cancelled = await stub.Cancel(
            pb.CancelExecutionRequest(id=cancelled_call.id, reason="r1", operator="root@admin")
        )
        failed = await stub.Fail(
            pb.FailExecutionRequest(id=failed_call.id, reason="r2", operator="alice@admin"),
            metadata=worker,
        )

    (complete,) = audits(completed)
    name = f"user token {fingerprint(guarded_served.user_token)}"
    assert re.fullmatch(
        f'completed by {name} {PEER} \\(claimed: "alice@admin"\\): stuck', complete.content
    ), complete.content
    recorded = to_json(complete.data)
    assert re.fullmatch(f"{name} {PEER}", recorded.pop("operator"))
    assert recorded == {"action": "complete", "claimed_operator": "alice@admin", "reason": "stuck"}

    ((cancel,), (fail,)) = audits(cancelled), audits(failed)
    assert re.fullmatch(f"no credential {PEER}", to_json(cancel.data)["operator"])
    assert to_json(cancel.data)["claimed_operator"] == "root@admin"
    assert re.fullmatch(f"the worker credential {PEER}", to_json(fail.data)["operator"])
    assert to_json(fail.data)["claimed_operator"] == "alice@admin"

    logged = [
        line for line in guarded_served.logs().splitlines() if "execution finished by hand" in line
    ]
    assert logged and re.search(f"(?<!claimed_)operator='?{name} {PEER}", logged[-1])
