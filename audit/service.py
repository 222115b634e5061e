"""Audit log service: record events (in the caller's transaction) and serve proofs.

Other packages call ``record`` (one event) or ``record_many`` (a batch) inside the same
transaction as the change the event describes, so a rollback removes both. The sequencer lock
is held until that transaction ends: record as late in the transaction as practical.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from audit import merkle, repository
from propusk.db import new_id, utcnow

# Keys that must never appear in an event body (secrets, identifiers, biometric data).
FORBIDDEN_BODY_KEYS = frozenset(
    {
        "password",
        "secret",
        "client_secret",
        "access_token",
        "refresh_token",
        "id_token",
        "snils",
        "embedding",
        "face_encoding",
        "encoding",
        "photo",
        "image",
        "frame",
    }
)
MAX_LABEL = 200
MAX_TYPE = 64


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


def format_time(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(s: str) -> datetime:
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def canonical_leaf(
    index: int,
    event_id: uuid.UUID,
    event_type: str,
    actor: str,
    subject: str | None,
    time: datetime,
    body: Mapping[str, Any],
) -> bytes:
    """The exact bytes that are hashed: sorted-key compact JSON, UTF-8."""
    doc = {
        "index": index,
        "id": str(event_id),
        "type": event_type,
        "actor": actor,
        "subject": subject,
        "time": format_time(time),
        "body": body,
    }
    return json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def _check_body(body: Any, path: str = "body") -> None:
    if isinstance(body, Mapping):
        for key, value in body.items():
            if not isinstance(key, str):
                raise ValueError(f"{path}: keys must be strings")
            if key.lower() in FORBIDDEN_BODY_KEYS:
                raise ValueError(f"{path}.{key}: secrets and biometric data never go to audit")
            _check_body(value, f"{path}.{key}")
    elif isinstance(body, list | tuple):
        for i, value in enumerate(body):
            _check_body(value, f"{path}[{i}]")


def _check_event(ev: NewEvent) -> None:
    if not ev.event_type or len(ev.event_type) > MAX_TYPE:
        raise ValueError("event_type must be 1..64 characters")
    if not ev.actor or len(ev.actor) > MAX_LABEL:
        raise ValueError("actor must be 1..200 characters")
    if ev.subject is not None and len(ev.subject) > MAX_LABEL:
        raise ValueError("subject must be at most 200 characters")
    _check_body(ev.body or {})


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
    """Append a batch under one sequencer lock: O(log n) hashing per event, three statements."""
    batch = list(events)
    for ev in batch:
        _check_event(ev)
    if not batch:
        return []
    repository.lock_sequencer(session)
    size, blob = repository.read_head(session)
    frontier = merkle.Frontier.from_bytes(size, blob)
    now = utcnow()
    stored: list[Event] = []
    event_rows: list[dict[str, Any]] = []
    node_rows: list[dict[str, Any]] = []
    for ev in batch:
        body = dict(ev.body or {})
        event = _build(frontier.size, ev, body, now)
        leaf = canonical_leaf(
            event.index, event.id, event.event_type, event.actor, event.subject, now, body
        )
        lh = merkle.leaf_hash(leaf)
        event = Event(event.index, event.id, ev.event_type, ev.actor, ev.subject, now, body, lh)
        node_rows.extend({"level": lvl, "index": i, "hash": h} for lvl, i, h in frontier.append(lh))
        event_rows.append(
            {
                "index": event.index,
                "id": event.id,
                "event_type": event.event_type,
                "actor": event.actor,
                "subject": event.subject,
                "time": now,
                "leaf": leaf,
                "leaf_hash": lh,
            }
        )
        stored.append(event)
    repository.insert_events(session, event_rows)
    repository.insert_nodes(session, node_rows)
    repository.write_head(session, frontier.size, frontier.to_bytes())
    return stored


def _build(index: int, ev: NewEvent, body: dict[str, Any], now: datetime) -> Event:
    return Event(index, new_id(), ev.event_type, ev.actor, ev.subject, now, body)
