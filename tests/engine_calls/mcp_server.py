"""A small MCP server for the `call: mcp` tests: over stdio, or over streamable HTTP on
the port given as its argument (at `/mcp`)."""

from __future__ import annotations

import os
import sys

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("stigmer-test-tools")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@server.tool()
def greeting(name: str) -> str:
    """Greet someone, in the language the environment names."""
    word = "Bonjour" if os.environ.get("GREETING_LANGUAGE") == "fr" else "Hello"
    return f"{word}, {name}!"


@server.tool()
def broken() -> str:
    """Always fails."""
    raise ToolError("this tool always fails")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
    else:
        server.run("stdio")
