"""SQLAlchemy models of the audit package.

``audit_event`` holds the leaves (the canonical bytes that are hashed, plus columns extracted
from them for lookups); ``audit_node`` every complete interior subtree hash (level >= 1) so
proofs are O(log n) key lookups; ``audit_head`` the one-row right edge (size + frontier) that
the sequencer reads and rewrites per append; ``audit_checkpoint`` the signed tree heads;
``audit_key`` the Ed25519 checkpoint signing key, encrypted under the KEK.
Events, nodes and checkpoints are append-only (database triggers, see migration 0002).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, SmallInteger, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from propusk.db import Base, UTCDateTime


class AuditEvent(Base):
    __tablename__ = "audit_event"

    index: Mapped[int] = mapped_column("idx", BigInteger, primary_key=True, autoincrement=False)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(200), index=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
    leaf: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditNode(Base):
    __tablename__ = "audit_node"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column("idx", BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditHead(Base):
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    frontier: Mapped[bytes] = mapped_column(LargeBinary)


class AuditCheckpoint(Base):
    __tablename__ = "audit_checkpoint"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True), index=True)
    key_name: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text)


class AuditKey(Base):
    __tablename__ = "audit_key"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    private_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))


class AuditPending(Base):
    """The outbox: events recorded by ``record_deferred`` in their change's transaction and not
    yet sequenced into the log. The sequencer moves them into ``audit_event`` in ``seq`` order
    and deletes them in the same transaction; ``id`` becomes the event id."""

    __tablename__ = "audit_pending"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(200))
    time: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
    body: Mapped[str] = mapped_column(Text)  # the canonical JSON of the body
