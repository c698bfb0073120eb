"""DefinitionService: apply, get, list and delete Agents and Workflows."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any

import grpc

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.api.v1 import stigmer_pb2_grpc as pb_grpc
from stigmer.engine.validation import validate_data
from stigmer.resources.definitions import agent_spec_errors, content_version, name_error
from stigmer.resources.source import pointer
from stigmer.resources.values import to_json
from stigmer.server.errors import InvalidArgument, rpc
from stigmer.server.pages import cursor_of, page_size, page_token
from stigmer.server.schedules import Schedules
from stigmer.store.database import NotFound
from stigmer.store.store import Store

Context = grpc.aio.ServicerContext[Any, Any]


def kind_name(kind: pb.DefinitionKind.ValueType, field: str = "kind") -> str:
    if kind == pb.DEFINITION_KIND_UNSPECIFIED:
        raise InvalidArgument(field, "is required: AGENT or WORKFLOW")
    return pb.DefinitionKind.Name(kind)


DOCUMENTS_KEPT = 256
"""Documents whose validation is remembered (by a digest of their canonical JSON)."""
_validated: OrderedDict[str, list[tuple[str, str]]] = OrderedDict()


def workflow_problems(document: dict[str, Any]) -> list[tuple[str, str]]:
    """DSL validation problems as (JSON pointer, message).

    A document seen lately is not validated again: the same inline workflow run again and
    again (each run carries it) would otherwise pay the schema check every time.
    """
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    found = _validated.get(digest)
    if found is None:
        found = [(error.path, error.message) for error in validate_data(document)]
        _validated[digest] = found
        while len(_validated) > DOCUMENTS_KEPT:
            _validated.popitem(last=False)
    else:
        _validated.move_to_end(digest)
    return list(found)


async def document_of(store: Store, execution: pb.Execution) -> dict[str, Any]:
    """The DSL document a workflow execution runs: inline, or the version it pinned."""
    run = execution.spec.workflow
    if run.HasField("document"):
        return dict(to_json(run.document))
    workflow = await store.definitions.get("WORKFLOW", run.workflow, run.workflow_version)
    return dict(to_json(workflow.spec))


def validate_spec(kind: pb.DefinitionKind.ValueType, spec: dict[str, Any]) -> None:
    """The same checks as `stigmer apply` makes on files, for clients that skip them."""
    if kind == pb.AGENT:
        problems = [(pointer(path), message) for path, message in agent_spec_errors(spec)]
    else:
        problems = workflow_problems(spec)
    if problems:
        where, message = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InvalidArgument(f"definition.spec{where.replace('/', '.')}", message + more)


class DefinitionService(pb_grpc.DefinitionServiceServicer):
    def __init__(self, store: Store, schedules: Schedules) -> None:
        self.store = store
        self.schedules = schedules

    @rpc
    async def Apply(
        self, request: pb.ApplyDefinitionRequest, context: Context
    ) -> pb.ApplyDefinitionResponse:
        definition = request.definition
        kind = kind_name(definition.kind, "definition.kind")
        if (problem := name_error(definition.metadata.name)) is not None:
            raise InvalidArgument("definition.metadata.name", problem)
        spec = to_json(definition.spec)
        if not spec:
            raise InvalidArgument("definition.spec", "is required")
        validate_spec(definition.kind, spec)
        metadata = {
            key: dict(value)
            for key, value in (
                ("labels", definition.metadata.labels),
                ("annotations", definition.metadata.annotations),
            )
            if value
        }
        name = definition.metadata.name
        if definition.kind != pb.WORKFLOW:
            stored, changed = await self.store.definitions.apply(
                kind, name, spec, metadata, content_version(spec)
            )
            return pb.ApplyDefinitionResponse(definition=stored, changed=changed)
        async with self.schedules.exclusive(name):
            # Temporal first: if it cannot take the schedule, nothing is stored either.
            await self.schedules.sync(name, spec, await self._current_spec(kind, name))
            stored, changed = await self.store.definitions.apply(
                kind, name, spec, metadata, content_version(spec)
            )
        return pb.ApplyDefinitionResponse(definition=stored, changed=changed)

    async def _current_spec(self, kind: str, name: str) -> dict[str, Any] | None:
        try:
            return dict(to_json((await self.store.definitions.get(kind, name)).spec))
        except NotFound:
            return None

    @rpc
    async def Get(self, request: pb.GetDefinitionRequest, context: Context) -> pb.Definition:
        if not request.name:
            raise InvalidArgument("name", "is required")
        return await self.store.definitions.get(
            kind_name(request.kind), request.name, request.version
        )

    @rpc
    async def List(
        self, request: pb.ListDefinitionsRequest, context: Context
    ) -> pb.ListDefinitionsResponse:
        kind = pb.DefinitionKind.Name(request.kind) if request.kind else None
        size = page_size(request.page_size)
        found = await self.store.definitions.page(kind, size, cursor_of(request.page_token))
        last = found[-1] if len(found) == size else None
        token = (
            page_token(f"{pb.DefinitionKind.Name(last.kind)}/{last.metadata.name}") if last else ""
        )
        return pb.ListDefinitionsResponse(definitions=found, next_page_token=token)

    @rpc
    async def Delete(
        self, request: pb.DeleteDefinitionRequest, context: Context
    ) -> pb.DeleteDefinitionResponse:
        if not request.name:
            raise InvalidArgument("name", "is required")
        kind = kind_name(request.kind)
        if request.kind != pb.WORKFLOW:
            await self.store.definitions.delete(kind, request.name)
            return pb.DeleteDefinitionResponse()
        async with self.schedules.exclusive(request.name):
            await self.schedules.sync(
                request.name, None, await self._current_spec(kind, request.name)
            )
            await self.store.definitions.delete(kind, request.name)
        return pb.DeleteDefinitionResponse()
