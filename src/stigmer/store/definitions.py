"""Agents and Workflows as applied, with every version ever applied kept."""

from __future__ import annotations

import asyncio
from typing import Any

from google.protobuf import json_format
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.store.database import MAX_WRITE_ATTEMPTS, Conflict, Database, NotFound, now, utc
from stigmer.store.tables import DefinitionRow, DefinitionVersionRow


class Definitions:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def apply(
        self, kind: str, name: str, spec: dict[str, Any], metadata: dict[str, Any], version: str
    ) -> tuple[pb.Definition, bool]:
        """Create or update; returns the stored definition and whether anything changed."""
        for _ in range(MAX_WRITE_ATTEMPTS):
            try:
                return await self._apply(kind, name, spec, metadata, version)
            except IntegrityError:
                # Another writer inserted the same new definition or version first (the row
                # lock cannot cover a row that does not exist yet): apply onto theirs.
                await asyncio.sleep(0)
        raise Conflict(f"{kind.lower()} {name!r} kept changing; gave up applying it")

    async def _apply(
        self, kind: str, name: str, spec: dict[str, Any], metadata: dict[str, Any], version: str
    ) -> tuple[pb.Definition, bool]:
        async with self.db.writing() as session:
            row = await session.get(DefinitionRow, (kind, name), with_for_update=True)
            stamp = now()
            if row is not None and row.version == version and row.metadata_json == metadata:
                return await _definition(session, row), False
            if await session.get(DefinitionVersionRow, (kind, name, version)) is None:
                session.add(
                    DefinitionVersionRow(
                        kind=kind, name=name, version=version, spec=spec, created_at=stamp
                    )
                )
            if row is None:
                row = DefinitionRow(
                    kind=kind,
                    name=name,
                    version=version,
                    generation=1,
                    metadata_json=metadata,
                    created_at=stamp,
                    updated_at=stamp,
                )
                session.add(row)
            else:
                row.version = version
                row.generation += 1
                row.metadata_json = metadata
                row.updated_at = stamp
            await session.flush()
            return await _definition(session, row), True

    async def get(self, kind: str, name: str, version: str = "") -> pb.Definition:
        """The current version, or the given one; a version outlives a deleted definition,
        so an execution pinned to it still runs."""
        async with self.db.sessions() as session:
            row = await session.get(DefinitionRow, (kind, name))
            if row is not None:
                return await _definition(session, row, version or row.version)
            stored = (
                await session.get(DefinitionVersionRow, (kind, name, version)) if version else None
            )
            if stored is None:
                raise NotFound(f"{kind.lower()} {name!r} not found")
            definition = pb.Definition(kind=pb.DefinitionKind.Value(kind), version=version)
            definition.metadata.name = name
            definition.spec.update(stored.spec)
            definition.created_at.FromDatetime(utc(stored.created_at))
            definition.updated_at.FromDatetime(utc(stored.created_at))
            return definition

    async def page(self, kind: str | None, limit: int, after: str = "") -> list[pb.Definition]:
        """Ordered by (kind, name); `after` is the last `kind/name` of the previous page."""
        async with self.db.sessions() as session:
            query = select(DefinitionRow).order_by(DefinitionRow.kind, DefinitionRow.name)
            if kind:
                query = query.where(DefinitionRow.kind == kind)
            if after:
                after_kind, _, after_name = after.partition("/")
                query = query.where(
                    (DefinitionRow.kind > after_kind)
                    | ((DefinitionRow.kind == after_kind) & (DefinitionRow.name > after_name))
                )
            rows = (await session.scalars(query.limit(limit))).all()
            return [await _definition(session, row) for row in rows]

    async def names(self) -> list[tuple[str, str]]:
        """(kind, name) of every current definition."""
        async with self.db.sessions() as session:
            rows = await session.execute(select(DefinitionRow.kind, DefinitionRow.name))
            return [(kind, name) for kind, name in rows]

    async def delete(self, kind: str, name: str) -> None:
        """Removes the definition; its versions stay for the executions that ran them."""
        async with self.db.writing() as session:
            row = await session.get(DefinitionRow, (kind, name))
            if row is None:
                raise NotFound(f"{kind.lower()} {name!r} not found")
            await session.delete(row)


async def _definition(
    session: AsyncSession, row: DefinitionRow, version: str = ""
) -> pb.Definition:
    wanted = version or row.version
    stored = await session.get(DefinitionVersionRow, (row.kind, row.name, wanted))
    if stored is None:
        raise NotFound(f"{row.kind.lower()} {row.name!r} has no version {wanted!r}")
    definition = pb.Definition(
        kind=pb.DefinitionKind.Value(row.kind), version=wanted, generation=row.generation
    )
    json_format.ParseDict(row.metadata_json, definition.metadata)
    definition.metadata.name = row.name
    definition.spec.update(stored.spec)
    definition.created_at.FromDatetime(utc(row.created_at))
    definition.updated_at.FromDatetime(utc(row.updated_at))
    return definition
