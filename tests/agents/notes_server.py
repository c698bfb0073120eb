"""A small MCP server over stdio for the tests: notes kept in memory, one forbidden tool."""

from __future__ import annotations

import os

from mcp.server.mcpserver import MCPServer

server = MCPServer("notes")
notes: list[str] = []


@server.tool()
def add_note(text: str) -> str:
    """Keep a note; answers how many notes there are."""
    notes.append(text)
    return f"noted ({len(notes)} notes, shelf {os.environ.get('NOTES_SHELF', '?')})"


@server.tool()
def erase_everything() -> str:
    """A tool no agent is allowed: calling it fails the test."""
    raise RuntimeError("erase_everything must never be offered")


if __name__ == "__main__":
    server.run("stdio")
