"""`stigmer agent run NAME "message" --follow` on the offline model."""

from __future__ import annotations

from tests.conftest import Platform
from tests.handshake.helpers import script
from tests.support.cli import run_cli_async


async def test_follow_shows_messages_and_todos_live_then_the_output(platform: Platform) -> None:
    spec = {"model": "test", "instructions": "Research it.", "tools": ["write_todos"]}
    await platform.client.apply("agent", "researcher", spec)
    message = script(
        todos=["find sources", "take notes"], steps=2, sleep=2, output="notes on tides"
    )
    code, out, err = await run_cli_async(
        "--address", platform.settings.address, "agent", "run", "researcher", message, "--follow"
    )

    assert code == 0, err
    lines = out.splitlines()
    assert any(line.strip().startswith("user:") for line in lines)
    assert any("tool_call write_todos:" in line for line in lines)
    assert any("tool_result write_todos:" in line for line in lines)
    assert "step 1 of 2" in out and "step 2 of 2" in out
    todo_lines = [line for line in lines if line.strip().startswith("todos:")]
    # Seen as they changed: planned first, all done last (changes that come close
    # together are sent, and so seen, as one).
    assert len(todo_lines) >= 2
    assert "find sources" in todo_lines[0] and "☐" in todo_lines[0]
    assert "☐" not in todo_lines[-1] and "…" not in todo_lines[-1]
    assert "output: notes on tides" in out and "COMPLETED" in out
    assert out.index("tool_call write_todos") < out.index("output: notes on tides")
