"""MCP servers as toolsets: stdio commands or streamable HTTP URLs, filtered to `allow`.

A stdio server gets only the variables its definition gives it (over a minimal base
environment the MCP client provides), never the runner's own environment, which holds
every agent's secrets.
"""

from __future__ import annotations

from typing import Any

from fastmcp.client.transports import StdioTransport, StreamableHttpTransport
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.tools import RunContext, ToolDefinition
from pydantic_ai.toolsets import AbstractToolset

from stigmer.agents.secrets import Resolver
from stigmer.resources.agent import McpServer

INIT_TIMEOUT_SECONDS = 30.0


def mcp_toolset(server: McpServer, resolver: Resolver) -> AbstractToolset[Any]:
    """The server's allowed tools; the connection opens when the run starts."""
    if server.command is not None:
        transport: StdioTransport | StreamableHttpTransport = StdioTransport(
            server.command,
            server.args,
            env=resolver.mapping(server.env),
            cwd=server.cwd,
            keep_alive=False,
        )
    else:
        assert server.url is not None
        transport = StreamableHttpTransport(server.url, headers=resolver.mapping(server.headers))
    allowed = frozenset(server.allow)

    def offered(_ctx: RunContext[Any], tool: ToolDefinition) -> bool:
        return tool.name in allowed

    toolset: MCPToolset[Any] = MCPToolset(
        transport, id=f"mcp-{server.name}", init_timeout=INIT_TIMEOUT_SECONDS
    )
    return toolset.filtered(offered)
