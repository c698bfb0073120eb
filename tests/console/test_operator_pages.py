"""The stuck calls of `stigmer doctor` and the definitions with their run forms, in a browser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from stigmer.local.embedded import EmbeddedTemporal
from tests.console.conftest import Console, serving_console
from tests.handshake.helpers import agent_task, document, eventually, script

pytestmark = [pytest.mark.temporal, pytest.mark.timeout(180)]

TOPIC_SCHEMA = {
    "type": "object",
    "required": ["topic"],
    "properties": {"topic": {"type": "string"}},
}


async def test_stuck_calls_are_listed_with_what_to_do(
    temporal_server: EmbeddedTemporal, tmp_path: Path, page: Page
) -> None:
    async with serving_console(temporal_server, tmp_path / "data", stuck_after=1) as console:
        await page.goto(f"{console.url}/stuck")
        await expect(page.locator("main")).to_contain_text("No stuck calls")
        run = await console.client.run_agent("scripted", script(sleep=60))

        async def listed() -> bool:
            return bool((await console.client.list_stuck()).stuck)

        await eventually(listed)
        await page.reload()
        row = page.locator("tr", has=page.get_by_role("link", name=run.execution.id))
        await expect(row).to_contain_text("in_progress")
        await expect(row).to_contain_text("Still running past the threshold")
        await row.get_by_role("link", name=run.execution.id).click()
        await expect(page.get_by_role("button", name="Fail by hand")).to_be_visible()
        await console.client.cancel(run.execution.id)


async def test_a_run_form_checks_its_input_before_sending_it(
    console: Console, page: Page, screenshots: Path
) -> None:
    greet = document(agent_task("ask", "${ .topic }"), name="greet")
    greet["input"] = {"schema": {"format": "json", "document": TOPIC_SCHEMA}}
    await console.client.apply("workflow", "greet", greet)
    await page.goto(f"{console.url}/definitions")
    card = page.locator("#workflow-greet")
    await expect(card).to_contain_text((await console.client.get("workflow", "greet")).version)
    await expect(page.locator("#agent-scripted")).to_be_visible()
    field = card.get_by_label(re.compile("^Input"))

    await field.fill("{not json")
    await card.get_by_role("button", name="Run greet").click()
    await expect(card.get_by_role("alert")).to_contain_text("Not valid JSON")
    assert page.url == f"{console.url}/definitions"
    assert not (await console.client.list_executions()).executions

    await field.fill('{"topic": 3}')
    await card.get_by_role("button", name="Run greet").click()
    card = page.locator("#workflow-greet")
    await expect(card.get_by_role("alert")).to_contain_text("does not match the input schema")
    assert not (await console.client.list_executions()).executions
    await card.screenshot(path=str(screenshots / "console-run-form.png"))

    await card.get_by_label(re.compile("^Input")).fill('{"topic": "tides"}')
    await card.get_by_role("button", name="Run greet").click()
    await expect(page).to_have_url(re.compile(r"/executions/wex-"))
    await expect(page.locator("#section-summary .phase")).to_have_text("completed")
    await expect(page.locator("#section-result")).to_contain_text("echo: tides")

    await page.goto(f"{console.url}/definitions")
    agent = page.locator("#agent-scripted")
    await agent.get_by_label("Message").fill("hello")
    await agent.get_by_role("button", name="Run scripted").click()
    await expect(page).to_have_url(re.compile(r"/executions/aex-"))
    await expect(page.locator("#messages")).to_contain_text("echo: hello")

    async def all_ran() -> bool:
        return len((await console.client.list_executions()).executions) == 3

    await eventually(all_ran)  # the workflow, the agent it called, the direct run
