"""The consent ledger: a hash-chained, append-only event list per consent (check 18).

Every state change of a consent goes through ``append``, which writes the ``consent_event``
(its hash covers the previous event's hash and the event's fields) and updates the current row
in the same transaction: the row is never changed without its event. ``verify_chain``
recomputes the chain; operators read the events of their consents as a feed, and receipts
name the grant or withdrawal event they are for.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from consent import repository as repo
from consent.models import Consent, ConsentEvent
from consent.parties import Party
from propusk.errors import Conflict

GENESIS = "0" * 64


def _event_hash(prev: str, fields: dict[str, Any]) -> str:
    blob = json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(prev.encode() + blob.encode()).hexdigest()


def append(
    session: Session,
    consent: Consent,
    *,
    type: str,
    to_state: str,
    actor: str,
    role: str,
    at: datetime,
    reason: str | None = None,
    payload: dict[str, Any] | None = None,
) -> ConsentEvent:
    """Append the event and update the current row together (one transaction)."""
    seq = consent.last_seq + 1
    fields = {
        "consent_id": str(consent.id),
        "seq": seq,
        "type": type,
        "from": consent.state,
        "to": to_state,
        "actor": actor,
        "role": role,
        "at": at.isoformat(),
        "reason": reason,
        "payload": payload or {},
    }
    digest = _event_hash(consent.last_hash or GENESIS, fields)
    event = ConsentEvent(
        pos=repo.next_feed_pos(session, consent.operator_id),
        consent_id=consent.id,
        operator_id=consent.operator_id,
        subject_id=consent.subject_id,
        seq=seq,
        type=type,
        from_state=consent.state if seq > 1 else None,
        to_state=to_state,
        actor=actor,
        actor_role=role,
        at=at,
        reason=reason,
        payload=payload or {},
        prev_hash=consent.last_hash or GENESIS,
        hash=digest,
    )
    consent.state = to_state
    consent.last_seq = seq
    consent.last_hash = digest
    consent.updated_at = at
    session.add(event)
    session.flush()
    return event


def verify_chain(session: Session, consent_id: uuid.UUID) -> bool:
    """Recompute the consent's event chain (check 18: proof of consent)."""
    prev = GENESIS
    state = None
    for ev in repo.events_of(session, consent_id):
        fields = {
            "consent_id": str(ev.consent_id),
            "seq": ev.seq,
            "type": ev.type,
            "from": state if ev.seq > 1 else "requested",
            "to": ev.to_state,
            "actor": ev.actor,
            "role": ev.actor_role,
            "at": ev.at.isoformat(),
            "reason": ev.reason,
            "payload": ev.payload,
        }
        if ev.prev_hash != prev or _event_hash(prev, fields) != ev.hash:
            return False
        prev, state = ev.hash, ev.to_state
    return True


def feed(session: Session, operator: Party, since: int, limit: int) -> list[ConsentEvent]:
    """The events of the operator's consents after feed position ``since``, oldest first."""
    return repo.feed(session, operator.id, since, limit)


def receipt_event(session: Session, consent: Consent, kind: str | None = None) -> ConsentEvent:
    """The grant or withdrawal event a receipt is for (the latest one unless ``kind`` says)."""
    kinds = (kind,) if kind else ("given", "withdrawn")
    events = [e for e in repo.events_of(session, consent.id) if e.type in kinds]
    if not events:
        raise Conflict("no grant or withdrawal to give a receipt for", type="no-receipt")
    return events[-1]
