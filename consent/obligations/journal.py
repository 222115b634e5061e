"""The append-only journal of an obligation: who files it, its row, clocks and events.

Each obligation is a current row (``consent_obligation``) plus an append-only event list with
actor and reason; opening one writes the row, its clocks and the first event together. Notices
to the subject (``SubjectNotice``) and the audit events of every step are written here too.
Services never commit; audit events are recorded last in the transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from audit.service import record as audit
from consent import parties
from consent.models import Obligation, ObligationClock, ObligationEvent, SubjectNotice
from consent.obligations import repository as orepo
from propusk.errors import ValidationProblem


@dataclass(frozen=True)
class Registrar:
    """Who records and resolves: an operator organisation, or the platform (``org_id`` None)."""

    actor: str
    org_id: uuid.UUID | None


def known_operator(session: Session, operator_id: uuid.UUID | None) -> uuid.UUID | None:
    """The id of a registered operator (``None`` stays ``None``); 422 for anything else."""
    if operator_id is None:
        return None
    org = parties.get(session, operator_id)
    if org is None or org.kind != "operator":
        raise ValidationProblem("no such registered operator", type="unknown-operator")
    return org.id


def open_obligation(
    session: Session,
    *,
    kind: str,
    actor: str,
    now: datetime,
    received_at: datetime | None = None,
    clocks: list[ObligationClock],
    subject_id: uuid.UUID | None = None,
    operator_id: uuid.UUID | None = None,
    categories: list[str] | None = None,
    details: dict[str, Any] | None = None,
    reason: str | None = None,
    **links: uuid.UUID | None,
) -> Obligation:
    """Create the obligation, its clocks and its first event in one go."""
    obligation = Obligation(
        kind=kind,
        status="open",
        subject_id=subject_id,
        operator_id=operator_id,
        categories=list(categories or []),
        filed_by=actor,
        received_at=received_at or now,
        details=details or {},
        last_seq=0,
        **links,
    )
    orepo.add(session, obligation)
    for clock in clocks:
        clock.obligation_id = obligation.id
        session.add(clock)
    append(session, obligation, "opened", actor, now, reason, {"details": details or {}})
    return obligation


def append(
    session: Session,
    obligation: Obligation,
    type: str,
    actor: str,
    at: datetime,
    reason: str | None = None,
    payload: dict[str, Any] | None = None,
) -> ObligationEvent:
    """The obligation's next event."""
    obligation.last_seq += 1
    event = ObligationEvent(
        obligation_id=obligation.id,
        seq=obligation.last_seq,
        type=type,
        actor=actor,
        at=at,
        reason=reason,
        payload=payload or {},
    )
    session.add(event)
    session.flush()
    return event


def notify(session: Session, obligation: Obligation, text: str, now: datetime) -> None:
    """A notice to the obligation's subject (none without a subject)."""
    if obligation.subject_id is not None:
        orepo.add(
            session,
            SubjectNotice(
                subject_id=obligation.subject_id, obligation_id=obligation.id, at=now, text=text
            ),
        )


def audit_step(session: Session, obligation: Obligation, type: str, actor: str) -> None:
    """The audit event ``consent.obligation.<type>`` of one step."""
    subject = f"person:{obligation.subject_id}" if obligation.subject_id else None
    audit(
        session,
        f"consent.obligation.{type}",
        actor=actor,
        subject=subject,
        body={"obligation_id": str(obligation.id), "kind": obligation.kind},
    )
