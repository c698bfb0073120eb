"""MCP servers as toolsets: stdio commands or streamable HTTP URLs, filtered to `allow`.

A stdio server is a process the definition names, started on the runner as the runner's
user: its command must be one the runner's operator allows (`stigmer.permissions`; it is
looked up as the start would, on the `PATH` the server gets and from its `cwd`, and the
path checked is the path started), or the agent fails with the `permission` error before
anything starts. It gets only the variables its definition gives it (over a minimal base
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
from stigmer.permissions import Permissions
from stigmer.resources.agent import McpServer

INIT_TIMEOUT_SECONDS = 30.0


def mcp_toolset(
    server: McpServer, resolver: Resolver, permissions: Permissions
) -> AbstractToolset[Any]:
    """The server's allowed tools; the connection opens when the run starts. A command the
    operator does not allow raises the `permission` fault here, before the run."""
    if server.command is not None:
        env = resolver.mapping(server.env)
        command = permissions.command(
            server.command,
            what=f"the MCP server {server.name!r}",
            cwd=server.cwd,
            search_path=env.get("PATH"),
        )
        transport: StdioTransport | StreamableHttpTransport = StdioTransport(
            command, server.args, env=env, cwd=server.cwd, keep_alive=False
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
