"""Audit log service: record events (in the caller's transaction) and serve proofs.

Other packages call ``record`` (one event) or ``record_many`` (a batch) inside the same
transaction as the change the event describes, so a rollback removes both. The sequencer lock
is held until that transaction ends: record as late in the transaction as practical.

Hot paths call ``record_deferred`` instead (integration split from sequencing, as in
Trillian/Tessera): the event goes to the ``audit_pending`` outbox in the caller's transaction,
with no lock, and keeps its id; the sequencer (``audit.sequencer`` thread, ``propusk audit
sequence``, or ``integrate_pending`` before any proof/checkpoint) later gives it a position.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from audit import checkpoint, merkle, repository
from audit.leaves import check_event, encode_body, format_time, leaf_bytes
from audit.models import AuditEvent
from propusk.db import is_postgres, utcnow
from propusk.errors import NotFound, Problem
from propusk.observability import count_after_commit
from propusk.settings import Settings, get_settings


@dataclass(frozen=True)
class Event:
    """One stored event: its position in the log, its fields and its leaf hash."""

    index: int
    id: uuid.UUID
    event_type: str
    actor: str
    subject: str | None
    time: datetime
    body: dict[str, Any] = field(default_factory=dict)
    leaf_hash: bytes = b""

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "id": str(self.id),
            "type": self.event_type,
            "actor": self.actor,
            "subject": self.subject,
            "time": format_time(self.time),
            "body": self.body,
            "leaf_hash": self.leaf_hash.hex(),
        }


@dataclass(frozen=True)
class NewEvent:
    """An event to append with ``record_many``."""

    event_type: str
    actor: str
    subject: str | None = None
    body: Mapping[str, Any] | None = None


def _new_ids(n: int) -> Iterator[uuid.UUID]:
    """n random (version 4) UUIDs from one urandom call: a batch needs many."""
    raw = os.urandom(16 * n)
    for i in range(0, 16 * n, 16):
        yield uuid.UUID(bytes=raw[i : i + 16], version=4)


def _check_event(ev: NewEvent) -> None:
    check_event(ev.event_type, ev.actor, ev.subject, ev.body)


def record(
    session: Session,
    event_type: str,
    *,
    actor: str,
    subject: str | None = None,
    body: dict[str, Any] | None = None,
) -> Event:
    """Append one event in the caller's transaction (no change without its event).

    ``actor``/``subject`` are principal strings (``person:<uuid>``, ``client:<id>``, ``system``);
    ``body`` is JSON with no secrets and no biometric data. Returns the stored event with its
    position (``index``) in the log.
    """
    return record_many(session, [NewEvent(event_type, actor, subject, body)])[0]


def record_many(session: Session, events: Iterable[NewEvent]) -> list[Event]:
    """Append a batch under one sequencer lock: O(log n) hashing per event and a constant
    number of statements per batch (COPY on PostgreSQL)."""
    batch = list(events)
    for ev in batch:
        _check_event(ev)
    if not batch:
        return []
    count_after_commit(session, [(ev.event_type, ev.body) for ev in batch])
    repository.lock_sequencer(session)
    now = utcnow()
    return _append(
        session,
        [
            (i, ev, now, encode_body(ev.body))
            for i, ev in zip(_new_ids(len(batch)), batch, strict=True)
        ],
    )


def _append(
    session: Session, items: list[tuple[uuid.UUID, NewEvent, datetime, str]]
) -> list[Event]:
    """Hash ``(id, event, time, canonical body text)`` items onto the right edge and write them
    (call under the sequencer lock). Returns the stored events; their ``body`` is that of the
    ``NewEvent`` (the outbox path passes none: it only needs the rows written)."""
    size, blob = repository.read_head(session)
    frontier = merkle.Frontier.from_bytes(size, blob)
    stored: list[Event] = []
    event_rows: list[tuple[Any, ...]] = []
    node_rows: list[tuple[int, int, bytes]] = []
    for event_id, ev, when, body_text in items:
        index = frontier.size
        leaf = leaf_bytes(
            index, event_id, ev.event_type, ev.actor, ev.subject, format_time(when), body_text
        )
        lh = merkle.leaf_hash(leaf)
        node_rows.extend(frontier.append(lh))
        event_rows.append((index, event_id, ev.event_type, ev.actor, ev.subject, when, leaf, lh))
        body = dict(ev.body or {})
        stored.append(Event(index, event_id, ev.event_type, ev.actor, ev.subject, when, body, lh))
    repository.append(session, event_rows, node_rows, frontier.size, frontier.to_bytes())
    return stored


# --- deferred append (outbox) ---

# Session.info key set by ``record_deferred``: the sequencer thread is woken after the commit.
PENDING_FLAG = "audit_pending"
INTEGRATE_BATCH = 5000


@dataclass(frozen=True)
class PendingEvent:
    """An event recorded in the outbox: its id is the event id it keeps in the log."""

    id: uuid.UUID
    time: datetime


def record_deferred(
    session: Session,
    event_type: str,
    *,
    actor: str,
    subject: str | None = None,
    body: dict[str, Any] | None = None,
) -> PendingEvent:
    """Record one event in the caller's transaction without taking the sequencer lock.

    The outbox row commits or rolls back with the change (no change without its event, no event
    without its change); the sequencer gives it a log position later, in ``seq`` order, keeping
    ``id``. Use ``record`` when the caller needs the position at once. On SQLite, which
    serialises writers anyway, the event is appended at once (same id semantics)."""
    return record_deferred_many(session, [NewEvent(event_type, actor, subject, body)])[0]


def record_deferred_many(session: Session, events: Iterable[NewEvent]) -> list[PendingEvent]:
    """``record_deferred`` for a batch (one executemany), in order."""
    batch = list(events)
    if not is_postgres(session):  # SQLite serialises writers anyway: no lock to keep short
        return [PendingEvent(e.id, e.time) for e in record_many(session, batch)]
    for ev in batch:
        _check_event(ev)
    if not batch:
        return []
    count_after_commit(session, [(ev.event_type, ev.body) for ev in batch])
    now = utcnow()
    rows = [
        {
            "id": event_id,
            "event_type": ev.event_type,
            "actor": ev.actor,
            "subject": ev.subject,
            "time": now,
            "body": encode_body(ev.body),
        }
        for event_id, ev in zip(_new_ids(len(batch)), batch, strict=True)
    ]
    repository.insert_pending(session, rows)
    session.info[PENDING_FLAG] = True
    return [PendingEvent(row["id"], now) for row in rows]


def integrate_pending(session: Session, limit: int = INTEGRATE_BATCH) -> int:
    """Sequence up to ``limit`` outbox rows into the log (in the caller's transaction, under the
    sequencer lock) and delete them; returns how many. Rows committed later are taken by a later
    call, whatever their ``seq``: integrated rows leave the outbox, so none is skipped."""
    if not repository.has_pending(session):
        return 0
    repository.lock_sequencer(session)
    rows = repository.take_pending(session, limit)  # removed from the outbox in this transaction
    if not rows:
        return 0
    # the outbox keeps each body as ``encode_body`` wrote it: spliced into the leaf as it is
    items = [(r.id, NewEvent(r.event_type, r.actor, r.subject), r.time, r.body) for r in rows]
    _append(session, items)
    return len(rows)


def integrate_all(session: Session) -> int:
    """Drain the outbox in this transaction (proof and checkpoint paths: a fresh event is
    provable)."""
    total = 0
    while n := integrate_pending(session):
        total += n
        if n < INTEGRATE_BATCH:
            break
    return total


def pending_count(session: Session) -> int:
    return repository.count_pending(session)


# --- proofs ---


class ProofRangeError(Problem):
    status, type, title = 400, "audit-proof-range", "Proof request outside the log"


def tree_size(session: Session) -> int:
    return repository.read_head(session)[0]


@dataclass(frozen=True)
class Inclusion:
    index: int
    tree_size: int
    leaf_hash: bytes
    root_hash: bytes
    hashes: list[bytes]


@dataclass(frozen=True)
class Consistency:
    first: int
    second: int
    first_root: bytes
    second_root: bytes
    hashes: list[bytes]


def _fold_all(
    session: Session, ranges: list[merkle.Range], extra: set[merkle.Node] = frozenset()
) -> tuple[list[bytes], dict[merkle.Node, bytes]]:
    """Fold each range from its stored complete subtrees, fetched in one query.

    A node that does not exist means the request reaches beyond the tree (nodes exist only for
    complete subtrees of the current tree), so no separate size lookup is needed.
    """
    needed = merkle.nodes_for(ranges) | extra
    found = repository.node_hashes(session, needed)
    if len(found) != len(needed):
        raise ProofRangeError("the request reaches beyond the tree", tree_size=tree_size(session))
    return [merkle.range_hash(a, b, found.__getitem__) for a, b in ranges], found


def _positive_size(size: int) -> None:
    if size < 1:
        raise ProofRangeError("tree_size must be at least 1")


def root_at(session: Session, size: int) -> bytes:
    """MTH of the first ``size`` leaves, from at most log2(size) stored nodes."""
    if size == 0:
        return merkle.EMPTY_ROOT
    _positive_size(size)
    return _fold_all(session, [(0, size)])[0][0]


def inclusion(session: Session, index: int, size: int) -> Inclusion:
    """RFC 9162 inclusion proof of leaf ``index`` in the tree of ``size`` leaves, with the
    leaf hash and the root it leads to (one query)."""
    _positive_size(size)
    if not 0 <= index < size:
        raise ProofRangeError(f"index must be within 0..{size - 1}")
    ranges = merkle.inclusion_ranges(index, size)
    hashes, found = _fold_all(session, [*ranges, (0, size)], {(0, index)})
    return Inclusion(index, size, found[(0, index)], hashes[-1], hashes[:-1])


def inclusion_at(
    session: Session, settings: Settings, index: int, size: int | None = None
) -> Inclusion:
    """``inclusion`` in the tree of ``size`` leaves, by default the latest signed checkpoint's
    (one is signed if none covers ``index`` yet)."""
    if size is None:
        size = checkpoint.latest(session, settings, min_size=index + 1).tree_size
    return inclusion(session, index, size)


def inclusion_proof(session: Session, index: int, size: int) -> list[bytes]:
    return inclusion(session, index, size).hashes


def consistency(session: Session, first: int, second: int) -> Consistency:
    """RFC 9162 consistency proof between tree sizes ``first`` <= ``second`` with both roots."""
    _positive_size(second)
    if not 0 < first <= second:
        raise ProofRangeError(f"first must be within 1..{second}")
    ranges = merkle.consistency_ranges(first, second)
    hashes, _ = _fold_all(session, [*ranges, (0, first), (0, second)])
    return Consistency(first, second, hashes[-2], hashes[-1], hashes[:-2])


def consistency_proof(session: Session, first: int, second: int) -> list[bytes]:
    return consistency(session, first, second).hashes


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def get_event(session: Session, event_id_or_index: uuid.UUID | str | int) -> Event:
    row = _find(session, event_id_or_index)
    if row is None:
        raise NotFound("no such audit event")
    return _to_event(row)


def _find(session: Session, key: uuid.UUID | str | int) -> AuditEvent | None:
    if isinstance(key, int):
        return repository.get_event(session, key) if key >= 0 else None
    try:
        return repository.get_event_by_id(session, uuid.UUID(str(key)))
    except ValueError:
        return None


def _to_event(row: AuditEvent) -> Event:
    doc = json.loads(row.leaf)
    return Event(
        row.index,
        row.id,
        row.event_type,
        row.actor,
        row.subject,
        row.time,
        doc["body"],
        bytes(row.leaf_hash),
    )


def event_with_proof(session: Session, index: int, settings: Settings) -> dict[str, Any]:
    """One event's fields with its inclusion proof against the latest signed checkpoint (the
    proof's base64 ``leaf_hash`` replaces the event's hex one)."""
    event = get_event(session, index)
    return event.as_dict() | inclusion_proof_for(session, index, settings)


def events_for_subject(
    session: Session, subject: str, types: Iterable[str] | None = None, limit: int = 1000
) -> list[Event]:
    """A participant's events in log order (e.g. their transfer history)."""
    return [_to_event(r) for r in repository.events_for_subject(session, subject, types, limit)]


def inclusion_proof_for(
    session: Session,
    event_id_or_index: uuid.UUID | str | int,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """An event's inclusion proof against the latest signed checkpoint (signed on demand if the
    event is newer), with everything a client needs to check it offline: the exact leaf bytes,
    leaf hash, tree size, root, audit path (base64) and the signed checkpoint note."""
    return inclusion_proofs_for(session, [event_id_or_index], settings)[0]


def inclusion_proofs_for(
    session: Session,
    events_ids_or_indexes: Iterable[uuid.UUID | str | int],
    settings: Settings | None = None,
) -> list[dict[str, Any]]:
    """``inclusion_proof_for`` for a list (e.g. a transfer history), all against one checkpoint;
    unknown events raise NotFound."""
    settings = settings or get_settings()
    integrate_all(session)
    rows = []
    for key in events_ids_or_indexes:
        row = _find(session, key)
        if row is None:
            raise NotFound("no such audit event")
        rows.append(row)
    if not rows:
        return []
    cp = checkpoint.latest(session, settings, min_size=max(r.index for r in rows) + 1)
    out = []
    for row in rows:
        proof = inclusion(session, row.index, cp.tree_size).hashes
        out.append(
            {
                "index": row.index,
                "id": str(row.id),
                "leaf": row.leaf.decode(),
                "leaf_hash": b64(bytes(row.leaf_hash)),
                "tree_size": cp.tree_size,
                "root_hash": b64(bytes(cp.root_hash)),
                "hashes": [b64(h) for h in proof],
                "checkpoint": cp.note,
            }
        )
    return out


def proofs_for_events(
    session: Session,
    event_ids: Iterable[uuid.UUID],
    settings: Settings | None = None,
    *,
    integrate: bool = True,
) -> dict[uuid.UUID, dict[str, Any]]:
    """Inclusion proofs keyed by event id for a participant's history (one checkpoint for all).

    Integrates the outbox first (``integrate=False``: leave it to the sequencer, e.g. on a path
    that must not wait for the sequencer lock); an id still pending maps to
    ``{"event_id", "pending": True}``; an unknown id is left out."""
    settings = settings or get_settings()
    ids = list(dict.fromkeys(event_ids))
    if not ids:
        return {}
    if integrate:
        integrate_all(session)
    rows = repository.events_by_ids(session, ids)
    out: dict[uuid.UUID, dict[str, Any]] = {
        i: {"event_id": str(i), "pending": True} for i in repository.pending_ids(session, ids)
    }
    if not rows:
        return out
    cp = checkpoint.latest(session, settings, min_size=max(r.index for r in rows.values()) + 1)
    for event_id, row in rows.items():
        proof = inclusion(session, row.index, cp.tree_size).hashes
        out[event_id] = {
            "event_id": str(event_id),
            "pending": False,
            "index": row.index,
            "leaf": row.leaf.decode(),
            "leaf_hash": b64(bytes(row.leaf_hash)),
            "tree_size": cp.tree_size,
            "root_hash": b64(bytes(cp.root_hash)),
            "hashes": [b64(h) for h in proof],
            "checkpoint": cp.note,
        }
    return out
