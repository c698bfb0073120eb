"""A small MCP server for the agent tests: notes kept in memory, one forbidden tool.

Over stdio, or over streamable HTTP on the port given as its argument (at `/mcp`); the
shelf it reports comes from `NOTES_SHELF`, or over HTTP from the `x-notes-shelf` header.
"""

from __future__ import annotations

import os
import sys

from mcp.server.mcpserver import Context, MCPServer

server = MCPServer("notes")
notes: list[str] = []


@server.tool()
def add_note(text: str, ctx: Context) -> str:
    """Keep a note; answers how many notes there are."""
    notes.append(text)
    headers = ctx.headers or {}
    shelf = headers.get("x-notes-shelf") or os.environ.get("NOTES_SHELF", "?")
    return f"noted ({len(notes)} notes, shelf {shelf})"


@server.tool()
def erase_everything() -> str:
    """A tool no agent is allowed: calling it fails the test."""
    raise RuntimeError("erase_everything must never be offered")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
    else:
        server.run("stdio")
