"""The relational schema. Resources are stored as their proto JSON so the wire contract
and the stored shape never drift; only what is filtered or joined on gets a column."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


class DefinitionRow(Base):
    """The current version of an Agent or Workflow."""

    __tablename__ = "definitions"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(253), primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    generation: Mapped[int] = mapped_column(Integer)
    metadata_json: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class DefinitionVersionRow(Base):
    """Every version ever applied, so an execution can always load the one it ran."""

    __tablename__ = "definition_versions"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(253), primary_key=True)
    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    spec: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class ExecutionRow(Base):
    __tablename__ = "executions"
    __table_args__ = (Index("ix_executions_created_at_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    target: Mapped[str] = mapped_column(String(253), index=True)
    parent_execution_id: Mapped[str] = mapped_column(String(64), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(512), unique=True)
    phase: Mapped[str] = mapped_column(String(16), index=True)
    spec: Mapped[dict[str, Any]]
    status: Mapped[dict[str, Any]]
    revision: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CallbackTokenRow(Base):
    """The caller's task token: a credential, kept apart from the readable status."""

    __tablename__ = "callback_tokens"

    execution_id: Mapped[str] = mapped_column(
        ForeignKey("executions.id", ondelete="CASCADE"), primary_key=True
    )
    task_token: Mapped[bytes] = mapped_column(LargeBinary)
    attempt: Mapped[int] = mapped_column(Integer)
    namespace: Mapped[str] = mapped_column(String(253))
    updated_at: Mapped[datetime]


class ResultRow(Base):
    """Results over the size budget, fetched by reference."""

    __tablename__ = "execution_results"

    execution_id: Mapped[str] = mapped_column(
        ForeignKey("executions.id", ondelete="CASCADE"), primary_key=True
    )
    output: Mapped[str] = mapped_column(Text)
    structured: Mapped[dict[str, Any]]
    """`{"value": ...}`, so any JSON value fits the column."""


class SubscriptionRow(Base):
    """A Temporal workflow waiting for published events (a `listen`, an event schedule)."""

    __tablename__ = "event_subscriptions"

    workflow_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    created_at: Mapped[datetime]
