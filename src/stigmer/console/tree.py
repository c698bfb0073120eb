"""The call tree around an execution: who called it, and what it called in turn.

Parents come from `spec.parent_execution_id`, children from the API's list filtered by
parent. Both walks are bounded, so a deep or wide tree costs a known number of calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.client import ApiError, Client
from stigmer.console.views import Row, row

MAX_ANCESTORS = 8
MAX_DEPTH = 3
"""Levels of calls shown below an execution: a workflow, its nested runs, their agents."""
MAX_CHILDREN = 100


@dataclass
class Node:
    row: Row
    current: bool = False
    children: list[Node] = field(default_factory=list)
    more: bool = False
    """Some children were left out (past MAX_CHILDREN)."""


@dataclass
class Tree:
    root: Node
    missing_parent: str = ""
    """The id of a parent the API no longer has, when the walk up stopped there."""

    @property
    def has_calls(self) -> bool:
        return bool(self.root.children) or not self.root.current


async def call_tree(client: Client, execution: pb.Execution) -> Tree:
    node = Node(row(execution), current=True)
    await _add_children(client, node, MAX_DEPTH)
    missing = ""
    parent_id = execution.spec.parent_execution_id
    for _ in range(MAX_ANCESTORS):
        if not parent_id:
            break
        try:
            parent = await client.execution(parent_id)
        except ApiError as exc:
            if exc.code != grpc.StatusCode.NOT_FOUND:
                raise
            missing = parent_id
            break
        node = Node(row(parent), children=[node])
        parent_id = parent.spec.parent_execution_id
    return Tree(node, missing)


async def _add_children(client: Client, node: Node, depth: int) -> None:
    if node.row.kind != "workflow" or depth == 0:  # agents call nothing through the platform
        return
    found = await client.list_executions(parent_execution_id=node.row.id, page_size=MAX_CHILDREN)
    node.more = bool(found.next_page_token)
    for child in reversed(found.executions):  # oldest first: the order they were called
        grown = Node(row(child))
        await _add_children(client, grown, depth - 1)
        node.children.append(grown)
