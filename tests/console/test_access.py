"""Who may use the console and how: the API's user token wherever the API requires it,
on loopback too, and nothing cross-site."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import Client
from stigmer.config import load_settings
from stigmer.console.access import TOKEN_COOKIE, Access
from stigmer.console.app import create_app
from stigmer.console.live import Live
from stigmer.local.embedded import EmbeddedTemporal, free_port
from stigmer.resources.values import to_json
from stigmer.user_token import fingerprint
from tests.conftest import Platform, running_platform
from tests.console.conftest import Console
from tests.handshake.helpers import SCRIPTED, agent_task, document, one_child, script

pytestmark = [pytest.mark.temporal, pytest.mark.timeout(120)]

USER_TOKEN = "user-token-for-the-test"
ORIGIN = "http://console.test"


@pytest.fixture
async def guarded(temporal_server: EmbeddedTemporal, tmp_path: Path) -> AsyncIterator[Platform]:
    """A platform whose API requires the user token, as it does off loopback."""
    platform = running_platform(temporal_server, tmp_path / "data", api_token=USER_TOKEN)
    async with platform as found, Client(found.settings.address, token=USER_TOKEN) as client:
        await client.apply("agent", "scripted", SCRIPTED)
        yield Platform(found.settings, found.api, found.workers, client, found.worker)


@pytest.fixture
async def off_loopback(guarded: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """The console as served on a public interface: every user signs in with the token."""
    settings = guarded.settings.model_copy(update={"host": "0.0.0.0"})
    access = Access.for_settings(settings)
    assert access.login_required
    live = Live()
    app = create_app(settings, access, live)
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as http:
            yield http
    finally:
        await live.close()
        await access.close()


async def sign_in(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post(
        "/login", data={"token": token, "next": "/stuck"}, headers={"origin": ORIGIN}
    )


async def test_off_loopback_every_page_asks_for_the_users_token(
    off_loopback: httpx.AsyncClient,
) -> None:
    refused = await off_loopback.get("/executions")
    assert refused.status_code == 303
    assert refused.headers["location"] == "/login?next=/executions"
    assert (await off_loopback.get("/executions/stream")).status_code == 401
    login = await off_loopback.get("/login")
    assert login.status_code == 200 and 'type="password"' in login.text

    wrong = await sign_in(off_loopback, "not-the-token")
    assert wrong.status_code == 401
    assert "the API refused this token" in wrong.text
    assert TOKEN_COOKIE not in off_loopback.cookies


async def test_signed_in_the_users_token_is_a_strict_httponly_cookie_and_their_name_on_audits(
    off_loopback: httpx.AsyncClient, guarded: Platform
) -> None:
    accepted = await sign_in(off_loopback, USER_TOKEN)
    assert accepted.status_code == 303 and accepted.headers["location"] == "/stuck"
    cookie = accepted.headers["set-cookie"]
    assert cookie.startswith(f"{TOKEN_COOKIE}={USER_TOKEN};")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    listed = await off_loopback.get("/executions")
    assert listed.status_code == 200

    run = await guarded.client.run_workflow(document=document(agent_task("ask", script(sleep=60))))
    call = await one_child(guarded.client, run.execution.id)
    done = await off_loopback.post(
        f"/executions/{call.id}/fail", data={"reason": "host lost"}, headers={"origin": ORIGIN}
    )
    assert done.status_code == 303
    audit = (await guarded.client.execution(call.id)).status.messages[-1]
    recorded = to_json(audit.data)
    # The API names the token the console's call carried; the browser's address is what
    # the console says of it.
    assert recorded.pop("operator").startswith(f"user token {fingerprint(USER_TOKEN)} from ipv4:")
    assert recorded == {
        "action": "fail",
        "claimed_operator": f"console token {fingerprint(USER_TOKEN)} via 10.1.2.3",
        "reason": "host lost",
    }

    signed_out = await off_loopback.post("/logout", headers={"origin": ORIGIN})
    assert signed_out.status_code == 303
    assert (await off_loopback.get("/executions")).status_code == 303


async def test_on_loopback_an_api_with_a_user_token_asks_for_it_too(guarded: Platform) -> None:
    """Whoever reaches the machine reaches a loopback console: it lends them nothing."""
    access = Access.for_settings(guarded.settings)
    assert access.login_required and access.loopback
    live = Live()
    app = create_app(guarded.settings, access, live)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    origin = "http://127.0.0.1:8234"
    run = await guarded.client.run_agent("scripted", script(sleep=60))
    try:
        async with httpx.AsyncClient(transport=transport, base_url=origin) as http:
            page = await http.get(f"/executions/{run.execution.id}")
            assert page.status_code == 303
            assert page.headers["location"] == f"/login?next=/executions/{run.execution.id}"
            forged = await http.post(
                f"/executions/{run.execution.id}/complete",
                data={"output": "FORGED"},
                headers={"origin": origin},
            )
            assert forged.status_code == 401 and forged.text == "sign in first"
            rebound = await http.get("/login", headers={"host": "evil.example:8234"})
            assert rebound.status_code == 400  # the loopback Host check still holds
            login = await http.get("/login")
            assert login.status_code == 200 and 'type="password"' in login.text
            await http.post("/login", data={"token": USER_TOKEN}, headers={"origin": origin})
            assert (await http.get(f"/executions/{run.execution.id}")).status_code == 200
    finally:
        await live.close()
        await access.close()
    found = await guarded.client.execution(run.execution.id)
    assert found.status.phase != pb.COMPLETED
    await guarded.client.cancel(run.execution.id)


async def test_a_request_from_another_site_changes_nothing(console: Console) -> None:
    run = await console.client.run_agent("scripted", script(sleep=60))
    async with httpx.AsyncClient(base_url=console.url) as http:
        for headers in (
            {"origin": "http://evil.example"},
            {"sec-fetch-site": "cross-site", "origin": console.url},
            {},
        ):
            refused = await http.post(f"/executions/{run.execution.id}/cancel", headers=headers)
            assert refused.status_code == 403, headers
        rebound = await http.get("/executions", headers={"host": "evil.example:8234"})
        assert rebound.status_code == 400
        page = await http.get("/executions")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
    found = await console.client.execution(run.execution.id)
    assert not found.status.cancel_requested
    await console.client.cancel(run.execution.id)


async def test_an_api_that_does_not_answer_is_a_clear_error_page() -> None:
    access = Access(f"127.0.0.1:{free_port()}", login_required=False)
    live = Live()
    app = create_app(load_settings(metrics_port=0), access, live)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            page = await http.get("/executions")
    finally:
        await live.close()
        await access.close()
    assert page.status_code == 503
    assert "The API does not answer" in page.text
    assert "cannot reach the Stigmer API" in page.text
