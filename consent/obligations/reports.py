"""What is read about obligations: one obligation in full, a participant's own demands and
notices, a registrar's open work list, and every missed deadline (check 8 and checks 9–15).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from consent import deadlines
from consent import repository as repo
from consent.models import DestructionTask, Obligation, ObligationClock, ObligationEvent
from consent.obligations import repository as orepo
from consent.obligations.clocks import end_of_day
from consent.obligations.journal import Registrar


def view(session: Session, obligation: Obligation) -> dict[str, Any]:
    """The obligation with its clocks and its full event list."""
    return {
        "id": str(obligation.id),
        "kind": obligation.kind,
        "status": obligation.status,
        "subject_id": str(obligation.subject_id) if obligation.subject_id else None,
        "operator_id": str(obligation.operator_id) if obligation.operator_id else None,
        "consent_id": str(obligation.consent_id) if obligation.consent_id else None,
        "access_request_id": str(obligation.access_request_id)
        if obligation.access_request_id
        else None,
        "categories": obligation.categories,
        "received_at": obligation.received_at.isoformat(),
        "closed_at": obligation.closed_at.isoformat() if obligation.closed_at else None,
        "details": obligation.details,
        "clocks": [_clock_view(c) for c in orepo.clocks(session, obligation.id)],
        "events": [_event_view(e) for e in orepo.events(session, obligation.id)],
    }


def _clock_view(c: ObligationClock) -> dict[str, Any]:
    return {
        "name": c.name,
        "due_date": c.due_date.isoformat() if c.due_date else None,
        "due_at": c.due_at.isoformat(),
        "extended": c.extended,
        "met_at": c.met_at.isoformat() if c.met_at else None,
    }


def _event_view(e: ObligationEvent) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "type": e.type,
        "actor": e.actor,
        "at": e.at.isoformat(),
        "reason": e.reason,
        "payload": e.payload,
    }


def of_subject(session: Session, subject_id: uuid.UUID) -> dict[str, Any]:
    """A participant's own demands and the notices sent to them."""
    return {
        "subject_id": str(subject_id),
        "obligations": [view(session, o) for o in orepo.of_subject(session, subject_id)],
        "notices": [
            {
                "id": str(n.id),
                "obligation_id": str(n.obligation_id),
                "at": n.at.isoformat(),
                "text": n.text,
            }
            for n in orepo.notices_of(session, subject_id)
        ],
    }


def open_for(session: Session, registrar: Registrar, limit: int = 200) -> list[dict[str, Any]]:
    """The registrar's work list: unclosed obligations (an operator sees its own)."""
    return [view(session, o) for o in orepo.open_obligations(session, registrar.org_id, limit)]


def overdue(
    session: Session, now: datetime, operator_id: uuid.UUID | None = None
) -> list[dict[str, Any]]:
    """Every missed deadline: obligation clocks plus 30-day destruction tasks (check 8)."""
    rows = [
        {
            "kind": o.kind,
            "obligation_id": str(o.id),
            "clock": c.name,
            "due_date": c.due_date.isoformat() if c.due_date else None,
            "due_at": c.due_at.isoformat(),
            "operator_id": str(o.operator_id) if o.operator_id else None,
            "subject_id": str(o.subject_id) if o.subject_id else None,
        }
        for c, o in orepo.overdue_clocks(session, now, operator_id)
    ]
    return rows + _overdue_destruction(session, now, operator_id)


def _overdue_destruction(
    session: Session, now: datetime, operator_id: uuid.UUID | None
) -> list[dict[str, Any]]:
    """30-day destruction tasks past due (of one operator), except those deferred under
    art. 21 part 6: their own 6-month clock applies."""
    rows = []
    tasks: list[DestructionTask] = repo.overdue_destruction(session, deadlines.receipt_date(now))
    for t in tasks:
        if operator_id is not None and t.operator_id != operator_id:
            continue
        if orepo.by_destruction_task(session, t.id) is not None:
            continue
        rows.append(
            {
                "kind": "destruction",
                "task_id": str(t.id),
                "clock": t.reason,
                "due_date": t.due_date.isoformat(),
                "due_at": end_of_day(t.due_date).isoformat(),
                "operator_id": str(t.operator_id),
                "subject_id": str(t.subject_id),
            }
        )
    return rows
