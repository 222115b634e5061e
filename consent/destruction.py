"""Destruction tasks: when a given consent ends, the operator must destroy the data (check 8).

A withdrawal, revocation or lapse of a consent that was given starts the operator's 30-day
clock (152-FZ art. 21 part 5); a withdrawn consent to dissemination is a demand to stop
disseminating within 3 working days (art. 10.1). The operator confirms the destruction; when it
cannot destroy in time the task is deferred as an obligation (``consent.obligations``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from audit.service import record as audit
from consent import catalogue, deadlines
from consent import repository as repo
from consent.models import Consent, DestructionTask
from consent.parties import Party
from propusk.errors import Conflict, NotFound


def start_destruction(session: Session, consent: Consent, reason: str, now: datetime) -> None:
    """The operator's clock: destroy within 30 days (art. 21 part 5); a withdrawn consent to
    dissemination is a demand to stop disseminating within 3 working days (art. 10.1)."""
    due = deadlines.destruction_due(now)
    purpose = catalogue.purpose(session, consent.purpose_key)
    if reason == "withdrawn" and purpose is not None and purpose.dissemination:
        reason, due = "dissemination_stop", deadlines.dissemination_due(now)
    task = DestructionTask(
        consent_id=consent.id,
        operator_id=consent.operator_id,
        subject_id=consent.subject_id,
        categories=list(consent.categories),
        reason=reason,
        started_at=now,
        due_date=due,
    )
    repo.add(session, task)


def confirm_destruction(
    session: Session, operator: Party, task_id: uuid.UUID, *, actor: str, now: datetime
) -> DestructionTask:
    """The operator confirms it destroyed the data of one of its tasks (once: the task is locked,
    so a second confirmation at the same moment waits and answers 409)."""
    task = repo.destruction_task_for_update(session, task_id)
    if task is None or task.operator_id != operator.id:
        raise NotFound("no such destruction task")
    if task.confirmed_at is not None:
        raise Conflict("destruction already confirmed", type="already-confirmed")
    task.confirmed_at = now
    task.confirmed_by = actor
    session.flush()
    audit(
        session,
        "consent.destruction.confirmed",
        actor=actor,
        body={"task_id": str(task.id), "consent_id": str(task.consent_id)},
    )
    return task
