"""Queries of the audit package (the only place that builds them)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from operator import attrgetter
from typing import Any

import orjson
from sqlalchemy import and_, delete, exists, func, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from audit.merkle import Node
from audit.models import (
    AuditCheckpoint,
    AuditEvent,
    AuditHead,
    AuditKey,
    AuditNode,
    AuditPending,
)
from propusk.db import is_postgres

HEAD_ID = 1
# pg_advisory_xact_lock key of the sequencer: b"propaudt" as a signed 64-bit integer.
SEQUENCER_LOCK = int.from_bytes(b"propaudt", "big", signed=True)


def lock_sequencer(session: Session) -> None:
    """Serialise appends until the end of the caller's transaction.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: a no-op write on the head row takes
    the database write lock first, so the head read below cannot be stale.
    """
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEQUENCER_LOCK})
    else:
        session.execute(
            update(AuditHead).where(AuditHead.id == HEAD_ID).values(size=AuditHead.size)
        )


def read_head(session: Session) -> tuple[int, bytes]:
    row = session.execute(
        select(AuditHead.size, AuditHead.frontier).where(AuditHead.id == HEAD_ID)
    ).first()
    if row is None:
        _insert_ignore(session, AuditHead, [{"id": HEAD_ID, "size": 0, "frontier": b""}], ["id"])
        return 0, b""
    return int(row.size), bytes(row.frontier)


def write_head(session: Session, size: int, frontier: bytes) -> None:
    session.execute(
        update(AuditHead).where(AuditHead.id == HEAD_ID).values(size=size, frontier=frontier)
    )


EVENT_COLUMNS = ("idx", "id", "event_type", "actor", "subject", "time", "leaf", "leaf_hash")
NODE_COLUMNS = ("level", "idx", "hash")
COPY_FROM = 16  # batches at least this big go through COPY on PostgreSQL


_PG_APPEND = text(
    "WITH ev AS (INSERT INTO audit_event "
    "(idx, id, event_type, actor, subject, time, leaf, leaf_hash) "
    "SELECT * FROM unnest(CAST(:idx AS bigint[]), CAST(:ids AS uuid[]), "
    "CAST(:types AS text[]), CAST(:actors AS text[]), CAST(:subjects AS text[]), "
    "CAST(:times AS timestamptz[]), CAST(:leaves AS bytea[]), CAST(:lhs AS bytea[]))), "
    "nd AS (INSERT INTO audit_node (level, idx, hash) "
    "SELECT * FROM unnest(CAST(:levels AS smallint[]), CAST(:nidx AS bigint[]), "
    "CAST(:hashes AS bytea[]))) "
    "UPDATE audit_head SET size = :size, frontier = :frontier WHERE id = 1"
)


def append(
    session: Session,
    events: Sequence[tuple[Any, ...]],
    nodes: Sequence[tuple[int, int, bytes]],
    size: int,
    frontier: bytes,
) -> None:
    """Write appended events (``EVENT_COLUMNS`` tuples), the nodes they complete and the new
    head. PostgreSQL: one statement for small appends (the common single event: the sequencer
    lock is held for fewer round trips), COPY for batches."""
    if is_postgres(session) and len(events) < COPY_FROM:
        cols = list(zip(*events, strict=True))
        ncols = list(zip(*nodes, strict=True)) if nodes else [(), (), ()]
        params = dict(
            zip(
                ("idx", "ids", "types", "actors", "subjects", "times", "leaves", "lhs"),
                map(list, cols),
                strict=True,
            )
        )
        params.update(levels=list(ncols[0]), nidx=list(ncols[1]), hashes=list(ncols[2]))
        params.update(size=size, frontier=frontier)
        session.execute(_PG_APPEND, params)
        return
    insert_events(session, events)
    insert_nodes(session, nodes)
    write_head(session, size, frontier)


def insert_events(session: Session, rows: Sequence[tuple[Any, ...]]) -> None:
    """Rows are tuples in ``EVENT_COLUMNS`` order."""
    _insert_rows(session, AuditEvent.__table__, EVENT_COLUMNS, rows)


def insert_nodes(session: Session, rows: Sequence[tuple[Any, ...]]) -> None:
    """Rows are ``(level, index, hash)`` tuples."""
    _insert_rows(session, AuditNode.__table__, NODE_COLUMNS, rows)


def _insert_rows(session: Session, table: Any, columns: tuple[str, ...], rows: Sequence) -> None:
    """COPY on PostgreSQL for batches (one round trip instead of one statement per row), plain
    executemany otherwise; both on the session's connection, i.e. in the caller's transaction."""
    if not rows:
        return
    if is_postgres(session) and len(rows) >= COPY_FROM:
        raw = session.connection().connection.driver_connection
        sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
        return
    session.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])


def get_event(session: Session, index: int) -> AuditEvent | None:
    return session.get(AuditEvent, index)


def get_event_by_id(session: Session, event_id: Any) -> AuditEvent | None:
    return session.scalars(select(AuditEvent).where(AuditEvent.id == event_id)).first()


def events_for_subject(
    session: Session, subject: str, types: Iterable[str] | None = None, limit: int = 1000
) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.subject == subject)
    if types:
        stmt = stmt.where(AuditEvent.event_type.in_(list(types)))
    return list(session.scalars(stmt.order_by(AuditEvent.index).limit(limit)))


def iter_events(session: Session, batch: int = 5000) -> Iterator[Any]:
    """All events in position order, streamed (server-side cursor on PostgreSQL)."""
    stmt = select(
        AuditEvent.index,
        AuditEvent.event_type,
        AuditEvent.actor,
        AuditEvent.subject,
        AuditEvent.time,
        AuditEvent.leaf,
        AuditEvent.leaf_hash,
    ).order_by(AuditEvent.index)
    result = session.execute(stmt, execution_options={"yield_per": batch})
    yield from result


def iter_nodes(session: Session, batch: int = 5000) -> Iterator[Any]:
    """All interior nodes in the order appends complete them: by the last leaf they cover
    ((index + 1) << level), lower levels first."""
    completed_at = (AuditNode.index + 1).op("<<")(AuditNode.level)
    stmt = select(AuditNode.level, AuditNode.index, AuditNode.hash).order_by(
        completed_at, AuditNode.level
    )
    yield from session.execute(stmt, execution_options={"yield_per": batch})


_PG_NODES = text(
    "SELECT 0, idx, leaf_hash FROM audit_event WHERE idx = ANY(CAST(:leaves AS bigint[])) "
    "UNION ALL SELECT n.level, n.idx, n.hash FROM audit_node n "
    "JOIN unnest(CAST(:levels AS smallint[]), CAST(:idxs AS bigint[])) AS w(level, idx) "
    "ON n.level = w.level AND n.idx = w.idx"
)


def node_hashes(session: Session, nodes: Iterable[Node]) -> dict[Node, bytes]:
    """Hashes of complete subtrees: level 0 from the events, higher levels from audit_node.

    One round trip on PostgreSQL (the proof latency is mostly round trips)."""
    wanted = set(nodes)
    leaves = [i for lvl, i in wanted if lvl == 0]
    inner = [(lvl, i) for lvl, i in wanted if lvl > 0]
    if is_postgres(session):
        params = {"leaves": leaves, "levels": [n[0] for n in inner], "idxs": [n[1] for n in inner]}
        rows = session.execute(_PG_NODES, params)
        return {(int(r[0]), int(r[1])): bytes(r[2]) for r in rows}
    found: dict[Node, bytes] = {}
    if leaves:
        rows = session.execute(
            select(AuditEvent.index, AuditEvent.leaf_hash).where(AuditEvent.index.in_(leaves))
        )
        found.update({(0, int(r[0])): bytes(r[1]) for r in rows})
    if inner:
        cond = or_(*(and_(AuditNode.level == lvl, AuditNode.index == i) for lvl, i in inner))
        rows = session.execute(select(AuditNode.level, AuditNode.index, AuditNode.hash).where(cond))
        found.update({(int(r[0]), int(r[1])): bytes(r[2]) for r in rows})
    return found


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    return session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1)
    ).first()


def get_checkpoint(session: Session, tree_size: int) -> AuditCheckpoint | None:
    return session.get(AuditCheckpoint, tree_size)


def all_checkpoints(session: Session) -> list[AuditCheckpoint]:
    return list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size)))


def insert_checkpoint(session: Session, row: dict[str, Any]) -> None:
    """Concurrent signers of the same size: the first one wins, the others are ignored."""
    _insert_ignore(session, AuditCheckpoint, [row], ["tree_size"])


def get_key(session: Session, name: str) -> AuditKey | None:
    return session.scalars(select(AuditKey).where(AuditKey.name == name)).first()


def first_key(session: Session) -> AuditKey | None:
    return session.scalars(select(AuditKey).order_by(AuditKey.created_at).limit(1)).first()


def insert_key(session: Session, row: dict[str, Any]) -> None:
    _insert_ignore(session, AuditKey, [row], ["name"])


def _insert_ignore(
    session: Session, model: Any, rows: list[dict[str, Any]], keys: list[str]
) -> None:
    dialect = postgresql if is_postgres(session) else sqlite
    stmt = dialect.insert(model).values(rows).on_conflict_do_nothing(index_elements=keys)
    session.execute(stmt)


# --- the outbox (deferred events) ---

_PENDING_INSERT = insert(AuditPending.__table__)


# PostgreSQL: a batch travels as one JSON array (one statement whatever its size; an
# executemany runs one INSERT per row on the server).
_PENDING_INSERT_JSON = text(
    "INSERT INTO audit_pending (id, event_type, actor, subject, time, body) "
    "SELECT id, event_type, actor, subject, time, body "
    "FROM json_populate_recordset(NULL::audit_pending, CAST(:rows AS json))"
)


def insert_pending(session: Session, rows: list[dict[str, Any]]) -> None:
    """Outbox rows, in order (Core, one statement: no ORM unit of work on the hot path)."""
    if is_postgres(session):
        session.execute(_PENDING_INSERT_JSON, {"rows": orjson.dumps(rows).decode()})
    else:
        session.execute(_PENDING_INSERT, rows)


def has_pending(session: Session) -> bool:
    """Cheap check before taking the sequencer lock (a plain read: no lock, no write)."""
    return bool(session.scalar(select(exists().select_from(AuditPending))))


def take_pending(session: Session, limit: int) -> list[Any]:
    """Remove and return the oldest committed (or own) outbox rows, in ``seq`` order, in one
    statement (call under the sequencer lock; the caller appends them in this transaction).

    A row committed after a higher ``seq`` was integrated is simply taken by a later batch:
    integrated rows are deleted, so nothing is skipped."""
    t = AuditPending.__table__  # Core: an ORM delete would synchronise the session per row
    oldest = select(t.c.seq).order_by(t.c.seq).limit(limit)
    stmt = (
        delete(t)
        .where(t.c.seq.in_(oldest.scalar_subquery()))
        .returning(t.c.seq, t.c.id, t.c.event_type, t.c.actor, t.c.subject, t.c.time, t.c.body)
    )
    return sorted(session.execute(stmt).all(), key=attrgetter("seq"))


def pending_ids(session: Session, ids: Sequence[Any]) -> set[Any]:
    """Which of these event ids are still in the outbox."""
    if not ids:
        return set()
    return set(session.scalars(select(AuditPending.id).where(AuditPending.id.in_(list(ids)))))


def count_pending(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditPending)) or 0)


def events_by_ids(session: Session, ids: Sequence[Any]) -> dict[Any, AuditEvent]:
    if not ids:
        return {}
    rows = session.scalars(select(AuditEvent).where(AuditEvent.id.in_(list(ids))))
    return {r.id: r for r in rows}
