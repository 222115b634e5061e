"""What an operator or the platform records in the obligation register (checks 12–15).

* 12 unlawful processing (art. 21 parts 1, 3): block at once, stop in 3 WD, destroy in 10 WD;
     the subject is notified on record and on resolution.
* 13 destruction impossible in 30 days (art. 21 part 6): block and destroy within 6 months; the
     confirmation records the RKN Order 179 destruction act.
* 14 incident (art. 21 part 3.1): RKN notice 24 h, investigation results 72 h from detection.
* 15 RKN request (art. 20 part 4): 10 WD, +5 WD with a reasoned notice.

An operator records for itself (``Registrar.org_id``); the platform may name an operator.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from consent import repository as repo
from consent.catalogue import require_categories
from consent.models import Obligation
from consent.obligations import blocks, clocks, journal
from consent.obligations import repository as orepo
from consent.obligations.journal import Registrar
from idp import identity
from propusk.errors import Conflict, Forbidden, NotFound, ValidationProblem

UNLAWFUL_NOTICE = (
    "Выявлена неправомерная обработка ваших персональных данных; их обработка "
    "заблокирована. Нарушение будет устранено не позднее чем через 3 рабочих дня, иначе "
    "данные будут уничтожены не позднее чем через 10 рабочих дней (ст. 21 152-ФЗ)."
)


def _registrar_operator(
    session: Session, registrar: Registrar, operator_id: uuid.UUID | None
) -> uuid.UUID | None:
    """An operator records for itself; the platform may name an operator (or none)."""
    if registrar.org_id is not None:
        return registrar.org_id
    return journal.known_operator(session, operator_id)


def _not_future(at: datetime, now: datetime, what: str) -> None:
    if at > now + timedelta(minutes=5):
        raise ValidationProblem(f"{what} is in the future", type="time-in-future")


def _processes(session: Session, operator_id: uuid.UUID, subject_id: uuid.UUID) -> bool:
    """The operator holds a consent (in any state) of the subject: it has their data to stop."""
    return any(c.operator_id == operator_id for c in repo.consents_of_subject(session, subject_id))


def record_unlawful(
    session: Session,
    registrar: Registrar,
    *,
    subject_id: uuid.UUID,
    categories: list[str],
    operator_id: uuid.UUID | None,
    reason: str,
    now: datetime,
) -> Obligation:
    """Check 12: block at once, stop in 3 WD, destroy in 10 WD; the subject is notified."""
    keys = list(require_categories(session, categories))
    if identity.get_person(session, subject_id) is None:
        raise ValidationProblem("no such participant", type="unknown-subject")
    if registrar.org_id is not None and not _processes(session, registrar.org_id, subject_id):
        raise Forbidden(
            "the operator has no consent of this participant: it processes none of their data",
            type="no-relation",
        )
    obligation = journal.open_obligation(
        session,
        kind="unlawful",
        actor=registrar.actor,
        now=now,
        clocks=[
            clocks.working_days("stop", now, clocks.UNLAWFUL_STOP_WD),
            clocks.working_days("destroy", now, clocks.UNLAWFUL_DESTROY_WD),
        ],
        subject_id=subject_id,
        operator_id=_registrar_operator(session, registrar, operator_id),
        categories=keys,
        reason=reason,
    )
    # an operator blocks its own processing; the platform, the operator it names (or everyone)
    blocks.block(session, obligation, obligation.operator_id, now)
    journal.append(session, obligation, "blocked", "system", now, payload={"categories": keys})
    journal.notify(session, obligation, UNLAWFUL_NOTICE, now)
    journal.append(session, obligation, "subject_notified", "system", now)
    journal.audit_step(session, obligation, "opened", registrar.actor)
    return obligation


def record_incident(
    session: Session,
    registrar: Registrar,
    *,
    detected_at: datetime,
    description: str,
    subjects_affected: int | None,
    categories: list[str],
    operator_id: uuid.UUID | None,
    now: datetime,
) -> Obligation:
    """Check 14: RKN notice within 24 h and investigation results within 72 h of detection."""
    _not_future(detected_at, now, "detected_at")
    keys = list(require_categories(session, categories)) if categories else []
    obligation = journal.open_obligation(
        session,
        kind="incident",
        actor=registrar.actor,
        now=now,
        received_at=detected_at,
        clocks=[
            clocks.hours("rkn_notice", detected_at, clocks.INCIDENT_NOTICE),
            clocks.hours("results", detected_at, clocks.INCIDENT_RESULTS),
        ],
        operator_id=_registrar_operator(session, registrar, operator_id),
        categories=keys,
        details={"description": description, "subjects_affected": subjects_affected},
    )
    journal.audit_step(session, obligation, "opened", registrar.actor)
    return obligation


def record_rkn_request(
    session: Session,
    registrar: Registrar,
    *,
    received_at: datetime,
    rkn_ref: str,
    summary: str,
    operator_id: uuid.UUID | None,
    now: datetime,
) -> Obligation:
    """Check 15: an RKN request is answered within 10 WD of receipt (+5 with a notice)."""
    _not_future(received_at, now, "received_at")
    obligation = journal.open_obligation(
        session,
        kind="rkn_request",
        actor=registrar.actor,
        now=now,
        received_at=received_at,
        clocks=[clocks.working_days("answer", received_at, clocks.RKN_ANSWER_WD)],
        operator_id=_registrar_operator(session, registrar, operator_id),
        details={"rkn_ref": rkn_ref, "summary": summary},
    )
    journal.audit_step(session, obligation, "opened", registrar.actor)
    return obligation


def defer_destruction(
    session: Session, registrar: Registrar, task_id: uuid.UUID, *, reason: str, now: datetime
) -> Obligation:
    """Check 13: destruction within 30 days is impossible — block the data for that operator
    and destroy within 6 months of the original receipt (art. 21 part 6)."""
    task = repo.destruction_task_for_update(session, task_id)
    if task is None or (registrar.org_id is not None and task.operator_id != registrar.org_id):
        raise NotFound("no such destruction task")
    if task.confirmed_at is not None:
        raise Conflict("destruction already confirmed", type="already-confirmed")
    if orepo.by_destruction_task(session, task.id) is not None:
        raise Conflict("destruction is already deferred", type="already-deferred")
    obligation = journal.open_obligation(
        session,
        kind="destruction_deferred",
        actor=registrar.actor,
        now=now,
        received_at=task.started_at,
        clocks=[clocks.months("destroy", task.started_at, clocks.DEFERRED_DESTRUCTION_MONTHS)],
        subject_id=task.subject_id,
        operator_id=task.operator_id,
        categories=list(task.categories),
        reason=reason,
        consent_id=task.consent_id,
        destruction_task_id=task.id,
    )
    blocks.block(session, obligation, task.operator_id, now)
    journal.append(
        session, obligation, "blocked", "system", now, payload={"categories": task.categories}
    )
    journal.audit_step(session, obligation, "opened", registrar.actor)
    return obligation
