"""The console in a real browser against a real platform: what an operator sees and does."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.contract.problems import CANCELLED as CANCELLED_TYPE
from stigmer.resources.values import to_json
from tests.console.conftest import Console
from tests.handshake.helpers import agent_task, document, eventually, one_child, output_of, script

pytestmark = [pytest.mark.temporal, pytest.mark.timeout(240)]

RESEARCHER = {
    "instructions": "Gather notes on the topic you are given; keep your todo list current.",
    "model": "test",
    "tools": ["write_todos"],
}


async def stays_on_page(page: Page) -> None:
    """Mark the loaded page; `still_same_page` proves no reload happened since."""
    await page.evaluate("window.notReloaded = true")


async def still_same_page(page: Page) -> bool:
    return bool(await page.evaluate("window.notReloaded === true"))


async def in_progress(console: Console, execution_id: str) -> None:
    async def running() -> bool:
        found = await console.client.execution(execution_id)
        return found.status.phase == pb.IN_PROGRESS

    await eventually(running)


async def shot(page: Page, screenshots: Path, name: str) -> None:
    await page.screenshot(path=str(screenshots / name), full_page=False)


async def test_the_list_shows_executions_newest_first_and_updates_itself(
    console: Console, page: Page, screenshots: Path
) -> None:
    first = (await console.client.run_agent("scripted", script(output="first"))).execution
    await console.client.wait(first.id)
    await page.goto(f"{console.url}/executions")
    first_row = page.locator(f"#row-{first.id}")
    await expect(first_row).to_contain_text("completed")
    await expect(first_row).to_contain_text("scripted")
    await expect(first_row.get_by_role("link", name=first.id)).to_have_attribute(
        "href", f"/executions/{first.id}"
    )
    await stays_on_page(page)

    run = await console.client.run_workflow(
        document=document(agent_task("ask", script(steps=2, sleep=3, todos=["look"])))
    )
    call = await one_child(console.client, run.execution.id)
    call_row = page.locator(f"#row-{call.id}")
    await expect(call_row).to_contain_text("pending on its token")
    await expect(page.locator(f"#row-{run.execution.id}")).to_contain_text("workflow")
    await shot(page, screenshots, "console-executions.png")
    await expect(call_row).to_contain_text("delivered")
    await expect(call_row).to_contain_text("completed")
    await expect(page.locator(f"#row-{run.execution.id}")).to_contain_text("completed")
    assert await still_same_page(page)
    order = await page.locator("#rows tr").evaluate_all("rows => rows.map(row => row.id)")
    assert order == [f"row-{call.id}", f"row-{run.execution.id}", f"row-{first.id}"]

    await page.goto(f"{console.url}/executions?kind=workflow")
    await expect(page.locator("#rows tr")).to_have_count(1)
    await page.goto(f"{console.url}/executions?q=nothing-matches-this")
    await expect(page.locator("#rows-empty")).to_contain_text("No execution matches")


async def test_an_agents_messages_and_todos_appear_while_it_works(
    console: Console, page: Page, screenshots: Path
) -> None:
    """A model agent (the offline test model) called by a workflow: every kind of message."""
    await console.client.apply("agent", "researcher", RESEARCHER)
    message = script(steps=4, sleep=10, todos=["gather sources", "write summary"], output="done")
    run = await console.client.run_workflow(
        document=document(agent_task("ask", message, agent="researcher"))
    )
    call = await one_child(console.client, run.execution.id)
    await page.goto(f"{console.url}/executions/{call.id}")
    await stays_on_page(page)
    messages = page.locator("#messages")
    await expect(messages).to_contain_text("step 1 of 4")
    assert "step 4 of 4" not in await messages.inner_text()  # still to come: it arrives live
    await expect(page.locator("#section-todos")).to_contain_text("gather sources")
    await expect(page.locator("#section-summary")).to_contain_text("pending on its token")
    await expect(messages).to_contain_text("step 4 of 4")
    await expect(page.locator("#section-summary .phase")).to_have_text("completed")
    for role in ("Model", "Tool call", "Tool result"):
        await expect(messages.locator(".role", has_text=role).first).to_be_visible()
    await expect(messages.locator(".role-tool_call").first).to_contain_text("write_todos")
    await expect(page.locator("#section-todos .todo-completed")).to_have_count(2)
    await expect(page.locator("#section-usage")).to_contain_text("Input tokens")
    await expect(page.locator("#section-result")).to_contain_text("done")
    await expect(page.locator("#section-callback")).to_contain_text("delivered")
    await expect(page.locator("#section-tree")).to_contain_text(run.execution.id)
    await expect(page.locator("#live-state")).to_have_text("Finished.")
    assert await still_same_page(page)
    await shot(page, screenshots, "console-agent.png")

    await page.set_viewport_size({"width": 390, "height": 844})  # a phone
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    await shot(page, screenshots, "console-phone.png")


async def test_the_call_tree_links_a_workflow_its_nested_run_and_their_agents(
    console: Console, page: Page, screenshots: Path
) -> None:
    inner = document(agent_task("ask", script(steps=2, sleep=1, output="inner")), name="inner")
    await console.client.apply("workflow", "inner", inner)
    nested = {"run": {"workflow": {"namespace": "test", "name": "inner", "version": "1.0.0"}}}
    outer = document(agent_task("first", script(output="outer")), {"nested": nested})
    run = await console.client.run_workflow(document=outer)
    done = await console.client.wait(run.execution.id)
    assert done.status.phase == pb.COMPLETED, done.status.error
    direct, inner_run = sorted(
        (await console.client.list_executions(parent_execution_id=run.execution.id)).executions,
        key=lambda execution: execution.spec.kind,
    )
    inner_call = await one_child(console.client, inner_run.id)

    await page.goto(f"{console.url}/executions/{run.execution.id}")
    tree = page.locator("#section-tree")
    for child in (direct, inner_run, inner_call):
        await expect(tree.get_by_role("link", name=child.id)).to_be_visible()
    tasks = page.locator("#section-tasks")
    await expect(tasks.get_by_role("link", name=direct.id)).to_be_visible()
    await expect(tasks.get_by_role("link", name=inner_run.id)).to_be_visible()
    await shot(page, screenshots, "console-workflow.png")

    await page.goto(f"{console.url}/executions/{inner_call.id}")
    summary = page.locator("#section-summary")
    await expect(summary.get_by_role("link", name=inner_run.id)).to_be_visible()
    await tree.get_by_role("link", name=run.execution.id).click()
    await expect(page).to_have_url(f"{console.url}/executions/{run.execution.id}")


async def test_cancel_from_the_page_fails_the_callers_task_with_the_cancellation_error(
    console: Console, page: Page
) -> None:
    run = await console.client.run_workflow(document=document(agent_task("ask", script(sleep=120))))
    call = await one_child(console.client, run.execution.id)
    await in_progress(console, call.id)
    await page.goto(f"{console.url}/executions/{call.id}")
    # From the keyboard alone: the button opens the confirmation, which takes its place,
    # so exactly one thing on the page says "Cancel" before and while it is open.
    await expect(page.get_by_text("Cancel")).to_have_count(1)
    await page.get_by_role("button", name="Cancel", exact=True).focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_text("Cancel")).to_have_count(1)
    await expect(page.get_by_text("Cancel")).to_have_text("Cancel execution")
    await expect(page.locator("#confirm-cancel").get_by_label("Reason")).to_be_focused()
    await page.keyboard.type("wrong topic")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="Cancel execution")).to_be_focused()
    await page.keyboard.press("Enter")

    await expect(page.locator("#section-summary .phase")).to_have_text("cancelled")
    await expect(page.locator("#section-callback")).to_contain_text("delivered")
    done = await console.client.wait(run.execution.id)
    assert done.status.phase == pb.FAILED
    assert done.status.error.type == CANCELLED_TYPE
    assert [(task.name, task.status) for task in done.status.tasks] == [("ask", "faulted")]
    assert done.status.tasks[0].error.type == CANCELLED_TYPE

    await page.goto(f"{console.url}/executions/{run.execution.id}")
    await expect(page.locator("#section-tasks")).to_contain_text("faulted")
    await expect(page.locator("#section-tasks")).to_contain_text(CANCELLED_TYPE)


async def test_complete_by_hand_tells_the_caller_and_is_audited(
    console: Console, page: Page
) -> None:
    run = await console.client.run_workflow(document=document(agent_task("ask", script(sleep=120))))
    call = await one_child(console.client, run.execution.id)
    await in_progress(console, call.id)
    await page.goto(f"{console.url}/executions/{call.id}")
    await page.get_by_role("button", name="Fail by hand").click()
    await page.keyboard.press("Escape")  # changed their mind: the buttons come back
    await expect(page.get_by_role("button", name="Cancel", exact=True)).to_be_focused()
    await page.get_by_role("button", name="Complete by hand").click()
    form = page.locator("#confirm-complete")
    await form.get_by_label("Output").fill("written by hand")
    await form.get_by_label("Reason").fill("agent host lost")
    await page.get_by_role("button", name="Complete execution").click()

    await expect(page.locator("#section-summary .phase")).to_have_text("completed")
    await expect(page.locator("#messages")).to_contain_text("agent host lost")
    done = await console.client.wait(run.execution.id)
    assert done.status.phase == pb.COMPLETED, done.status.error
    assert output_of(done)["output"] == "written by hand"
    finished = await console.client.execution(call.id)
    audit = finished.status.messages[-1]
    assert audit.role == "system"
    recorded = to_json(audit.data)
    # The API names the console's call: no credential (none is needed), its address.
    assert recorded.pop("operator").startswith("no credential from ipv4:127.0.0.1:")
    assert recorded == {
        "action": "complete",
        "claimed_operator": "console via 127.0.0.1",
        "reason": "agent host lost",
    }


async def test_an_unknown_id_has_a_clear_error_page(console: Console, page: Page) -> None:
    response = await page.goto(f"{console.url}/executions/aex-000000000000nothing00")
    assert response is not None and response.status == 404
    await expect(page.get_by_role("heading", name="No such execution")).to_be_visible()
    await expect(page.locator("main")).to_contain_text("aex-000000000000nothing00")
