"""152-FZ obligations of the operator (consent-notes §2, checks 9–15) as audited workflows.

Each obligation is a current row (``consent_obligation``) plus an append-only event list with
actor and reason, and one or more *clocks* (deadlines) on the production calendar of
``consent.deadlines``; a clock is overdue when it is unmet and its instant has passed.

* 9  stop processing (art. 21 p. 5.1): 10 WD, one +5 WD extension with a reasoned notice.
* 10 access request (art. 14, 20 p. 1–2): 10 WD, +5 WD with a reasoned notice, or a reasoned
     refusal inside the period; answering (``service.access_answer``) meets the clock.
* 11 rectification (art. 20 p. 3, 21 p. 1–2): block the categories at once, check in 7 WD;
     rectified or rejected (with reason) lifts the block.
* 12 unlawful processing (art. 21 p. 1, 3): block at once, stop in 3 WD, destroy in 10 WD,
     the subject is notified (``SubjectNotice``) on record and on resolution.
* 13 destruction impossible in 30 days (art. 21 p. 6): block and destroy within 6 months; the
     confirmation records the RKN Order 179 destruction act.
* 14 incident (art. 21 p. 3.1): RKN notice 24 h, investigation results 72 h from detection.
* 15 RKN request (art. 20 p. 4): 10 WD, +5 WD with a reasoned notice.

Blocks are rows the transfer gate can read: ``blocked_categories(session, subject, now)``.
Services never commit; audit events are recorded last in the transaction.
"""

from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from audit.service import record as audit
from consent import deadlines
from consent import obligations_repo as orepo
from consent import repository as repo
from consent.models import (
    AccessRequest,
    Block,
    DestructionTask,
    Obligation,
    ObligationClock,
    ObligationEvent,
    SubjectNotice,
)
from propusk.errors import Conflict, Forbidden, NotFound, ValidationProblem

STOP_PROCESSING_WD = deadlines.STOP_PROCESSING_WD  # 9
ACCESS_ANSWER_WD = deadlines.ACCESS_ANSWER_WD  # 10
EXTENSION_WD = deadlines.ACCESS_EXTENSION_WD  # 9, 10, 15
RECTIFICATION_WD = 7  # 11
UNLAWFUL_STOP_WD = 3  # 12
UNLAWFUL_DESTROY_WD = 10  # 12
DEFERRED_DESTRUCTION_MONTHS = 6  # 13
INCIDENT_NOTICE = timedelta(hours=24)  # 14
INCIDENT_RESULTS = timedelta(hours=72)  # 14
RKN_ANSWER_WD = 10  # 15


@dataclass(frozen=True)
class Registrar:
    """Who records and resolves: an operator organisation, or the platform (``org_id`` None)."""

    actor: str
    org_id: uuid.UUID | None


@dataclass(frozen=True)
class Action:
    """One resolution step: the status it sets, the clocks it meets, what it requires."""

    status: str
    meets: tuple[str, ...] = ()
    closes: bool = False
    reason: bool = False
    ref: bool = False
    extends: str | None = None
    lifts: bool = False
    notice: str | None = None
    act: bool = False
    after: tuple[str, ...] | None = None  # allowed previous statuses (default: any open)


ACTIONS: dict[str, dict[str, Action]] = {
    "stop_processing": {
        "extend": Action("extended", extends="stop", reason=True),
        "stopped": Action("stopped", meets=("stop",), closes=True),
    },
    "access": {
        "extend": Action("extended", extends="answer", reason=True),
        "refuse": Action("refused", meets=("answer",), closes=True, reason=True),
    },
    "rectification": {
        "rectified": Action("rectified", meets=("check",), closes=True, lifts=True),
        "rejected": Action("rejected", meets=("check",), closes=True, lifts=True, reason=True),
    },
    "unlawful": {
        "stopped": Action("stopped", meets=("stop",), after=("open",)),
        "remedied": Action(
            "remedied",
            meets=("stop", "destroy"),
            closes=True,
            lifts=True,
            notice="Неправомерная обработка ваших персональных данных устранена "
            "(ст. 21 ч. 3 152-ФЗ).",
        ),
        "destroyed": Action(
            "destroyed",
            meets=("stop", "destroy"),
            closes=True,
            lifts=True,
            ref=True,
            notice="Неправомерно обрабатываемые персональные данные уничтожены "
            "(ст. 21 ч. 3 152-ФЗ).",
        ),
    },
    "destruction_deferred": {
        "destroyed": Action("destroyed", meets=("destroy",), closes=True, lifts=True, act=True),
    },
    "incident": {
        "rkn_notified": Action("rkn_notified", meets=("rkn_notice",), ref=True, after=("open",)),
        "results_sent": Action(
            "results_sent", meets=("results",), closes=True, ref=True, after=("rkn_notified",)
        ),
    },
    "rkn_request": {
        "extend": Action("extended", extends="answer", reason=True),
        "answered": Action("answered", meets=("answer",), closes=True, ref=True),
    },
}
PARTICIPANT_KINDS = ("stop_processing", "access", "rectification")


# --- clocks -------------------------------------------------------------------------------


def end_of_day(day: date) -> datetime:
    """The instant a day-granular deadline is missed: the end of that Moscow day."""
    return datetime.combine(day + timedelta(days=1), time(0), deadlines.MOSCOW)


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later (clamped to the month's last day)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _wd_clock(name: str, received_at: datetime, n: int) -> ObligationClock:
    due = deadlines.add_working_days(deadlines.receipt_date(received_at), n)
    return ObligationClock(name=name, due_date=due, due_at=end_of_day(due), extended=False)


def _hours_clock(name: str, detected_at: datetime, delta: timedelta) -> ObligationClock:
    return ObligationClock(name=name, due_date=None, due_at=detected_at + delta, extended=False)


def _months_clock(name: str, received_at: datetime, months: int) -> ObligationClock:
    due = add_months(deadlines.receipt_date(received_at), months)
    return ObligationClock(name=name, due_date=due, due_at=end_of_day(due), extended=False)


# --- the append-only core -----------------------------------------------------------------


def _open(
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
    _event(session, obligation, "opened", actor, now, reason, {"details": details or {}})
    return obligation


def _event(
    session: Session,
    obligation: Obligation,
    type: str,
    actor: str,
    at: datetime,
    reason: str | None = None,
    payload: dict[str, Any] | None = None,
) -> ObligationEvent:
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


def _block(session: Session, obligation: Obligation, operator_id: uuid.UUID | None, now) -> None:
    """Block the obligation's categories of its subject (transfers refused while in force)."""
    session.add(
        Block(
            subject_id=obligation.subject_id,
            operator_id=operator_id,
            categories=list(obligation.categories),
            obligation_id=obligation.id,
            started_at=now,
        )
    )
    session.flush()


def _notify(session: Session, obligation: Obligation, text: str, now: datetime) -> None:
    if obligation.subject_id is not None:
        orepo.add(
            session,
            SubjectNotice(
                subject_id=obligation.subject_id, obligation_id=obligation.id, at=now, text=text
            ),
        )


def _audit(session: Session, obligation: Obligation, type: str, actor: str) -> None:
    subject = f"person:{obligation.subject_id}" if obligation.subject_id else None
    audit(
        session,
        f"consent.obligation.{type}",
        actor=actor,
        subject=subject,
        body={"obligation_id": str(obligation.id), "kind": obligation.kind},
    )


def blocked_categories(
    session: Session, subject_id: uuid.UUID, now: datetime, operator_id: uuid.UUID | None = None
) -> set[str]:
    """The subject's categories under a block now (for the transfer gate: refuse them)."""
    return {
        c for b in orepo.active_blocks(session, subject_id, now, operator_id) for c in b.categories
    }


# --- participants (checks 9, 10, 11) ------------------------------------------------------


def _known_operator(session: Session, operator_id: uuid.UUID | None) -> uuid.UUID | None:
    if operator_id is None:
        return None
    org = repo.get_organization(session, operator_id)
    if org is None or org.kind != "operator":
        raise ValidationProblem("no such registered operator", type="unknown-operator")
    return org.id


def file_stop_processing(
    session: Session,
    subject_id: uuid.UUID,
    person_id: uuid.UUID,
    *,
    consent_id: uuid.UUID | None,
    operator_id: uuid.UUID | None,
    reason: str | None,
    now: datetime,
) -> Obligation:
    """Check 9: a demand to stop processing; a given consent named in it is suspended at once
    (the gate refuses), and the operator must confirm the stop within 10 WD."""
    from consent import service

    categories: list[str] = []
    if consent_id is not None:
        consent = repo.get_consent(session, consent_id)
        if consent is None or consent.subject_id != subject_id:
            raise NotFound("no such consent of this participant", type="unknown-consent")
        operator_id, categories = consent.operator_id, list(consent.categories)
        if consent.state == "given":
            service.suspend(session, consent_id, person_id, now=now, reason=reason)
    operator_id = _known_operator(session, operator_id)
    actor = f"person:{person_id}"
    obligation = _open(
        session,
        kind="stop_processing",
        actor=actor,
        now=now,
        clocks=[_wd_clock("stop", now, STOP_PROCESSING_WD)],
        subject_id=subject_id,
        operator_id=operator_id,
        categories=categories,
        reason=reason,
        consent_id=consent_id,
    )
    _audit(session, obligation, "opened", actor)
    return obligation


def open_access(session: Session, request: AccessRequest, *, now: datetime) -> Obligation:
    """Check 10: the clock of an art. 14 request (answered by the platform, the ЦОС operator)."""
    actor = f"person:{request.requested_by}"
    obligation = _open(
        session,
        kind="access",
        actor=actor,
        now=now,
        received_at=request.received_at,
        clocks=[_wd_clock("answer", request.received_at, ACCESS_ANSWER_WD)],
        subject_id=request.subject_id,
        access_request_id=request.id,
    )
    return obligation


def access_answered(session: Session, request: AccessRequest, *, now: datetime) -> None:
    """The answer was given: meet the clock (called when the answer is first produced)."""
    obligation = orepo.by_access_request(session, request.id)
    if obligation is None or obligation.closed_at is not None:
        return
    _meet(session, obligation, ("answer",), now)
    obligation.status = "answered"
    obligation.closed_at = now
    _event(session, obligation, "answered", "system", now)
    _audit(session, obligation, "answered", "system")


def file_rectification(
    session: Session,
    subject_id: uuid.UUID,
    person_id: uuid.UUID,
    *,
    categories: list[str],
    operator_id: uuid.UUID | None,
    correction: str,
    proof: str,
    now: datetime,
) -> Obligation:
    """Check 11: with proof, the categories are blocked at once for the 7-WD check."""
    from consent import service

    keys = list(service.require_categories(session, categories))
    operator_id = _known_operator(session, operator_id)
    actor = f"person:{person_id}"
    obligation = _open(
        session,
        kind="rectification",
        actor=actor,
        now=now,
        clocks=[_wd_clock("check", now, RECTIFICATION_WD)],
        subject_id=subject_id,
        operator_id=operator_id,
        categories=keys,
        details={"correction": correction, "proof": proof},
    )
    _block(session, obligation, None, now)
    _event(session, obligation, "blocked", "system", now, payload={"categories": keys})
    _audit(session, obligation, "opened", actor)
    return obligation


# --- operators and the platform (checks 12, 13, 14, 15) -----------------------------------


def _registrar_operator(
    session: Session, registrar: Registrar, operator_id: uuid.UUID | None
) -> uuid.UUID | None:
    """An operator records for itself; the platform may name an operator (or none)."""
    if registrar.org_id is not None:
        return registrar.org_id
    return _known_operator(session, operator_id)


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
    from consent import service
    from idp import service as idp

    keys = list(service.require_categories(session, categories))
    if idp.get_person(session, subject_id) is None:
        raise ValidationProblem("no such participant", type="unknown-subject")
    if registrar.org_id is not None and not _processes(session, registrar.org_id, subject_id):
        raise Forbidden(
            "the operator has no consent of this participant: it processes none of their data",
            type="no-relation",
        )
    obligation = _open(
        session,
        kind="unlawful",
        actor=registrar.actor,
        now=now,
        clocks=[
            _wd_clock("stop", now, UNLAWFUL_STOP_WD),
            _wd_clock("destroy", now, UNLAWFUL_DESTROY_WD),
        ],
        subject_id=subject_id,
        operator_id=_registrar_operator(session, registrar, operator_id),
        categories=keys,
        reason=reason,
    )
    # an operator blocks its own processing; the platform, the operator it names (or everyone)
    _block(session, obligation, obligation.operator_id, now)
    _event(session, obligation, "blocked", "system", now, payload={"categories": keys})
    _notify(
        session,
        obligation,
        "Выявлена неправомерная обработка ваших персональных данных; их обработка "
        "заблокирована. Нарушение будет устранено не позднее чем через 3 рабочих дня, иначе "
        "данные будут уничтожены не позднее чем через 10 рабочих дней (ст. 21 152-ФЗ).",
        now,
    )
    _event(session, obligation, "subject_notified", "system", now)
    _audit(session, obligation, "opened", registrar.actor)
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
    from consent import service

    _not_future(detected_at, now, "detected_at")
    keys = list(service.require_categories(session, categories)) if categories else []
    obligation = _open(
        session,
        kind="incident",
        actor=registrar.actor,
        now=now,
        received_at=detected_at,
        clocks=[
            _hours_clock("rkn_notice", detected_at, INCIDENT_NOTICE),
            _hours_clock("results", detected_at, INCIDENT_RESULTS),
        ],
        operator_id=_registrar_operator(session, registrar, operator_id),
        categories=keys,
        details={"description": description, "subjects_affected": subjects_affected},
    )
    _audit(session, obligation, "opened", registrar.actor)
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
    obligation = _open(
        session,
        kind="rkn_request",
        actor=registrar.actor,
        now=now,
        received_at=received_at,
        clocks=[_wd_clock("answer", received_at, RKN_ANSWER_WD)],
        operator_id=_registrar_operator(session, registrar, operator_id),
        details={"rkn_ref": rkn_ref, "summary": summary},
    )
    _audit(session, obligation, "opened", registrar.actor)
    return obligation


def defer_destruction(
    session: Session, registrar: Registrar, task_id: uuid.UUID, *, reason: str, now: datetime
) -> Obligation:
    """Check 13: destruction within 30 days is impossible — block the data for that operator
    and destroy within 6 months of the original receipt (art. 21 part 6)."""
    task = repo.get_destruction_task(session, task_id)
    if task is None or (registrar.org_id is not None and task.operator_id != registrar.org_id):
        raise NotFound("no such destruction task")
    if task.confirmed_at is not None:
        raise Conflict("destruction already confirmed", type="already-confirmed")
    if orepo.by_destruction_task(session, task.id) is not None:
        raise Conflict("destruction is already deferred", type="already-deferred")
    obligation = _open(
        session,
        kind="destruction_deferred",
        actor=registrar.actor,
        now=now,
        received_at=task.started_at,
        clocks=[_months_clock("destroy", task.started_at, DEFERRED_DESTRUCTION_MONTHS)],
        subject_id=task.subject_id,
        operator_id=task.operator_id,
        categories=list(task.categories),
        reason=reason,
        consent_id=task.consent_id,
        destruction_task_id=task.id,
    )
    _block(session, obligation, task.operator_id, now)
    _event(session, obligation, "blocked", "system", now, payload={"categories": task.categories})
    _audit(session, obligation, "opened", registrar.actor)
    return obligation


# --- resolution ---------------------------------------------------------------------------


def obligation_for(session: Session, registrar: Registrar, obligation_id: uuid.UUID) -> Obligation:
    """The obligation if the registrar may see it (an operator only its own), else 404."""
    obligation = orepo.get(session, obligation_id)
    if obligation is None or (
        registrar.org_id is not None and obligation.operator_id != registrar.org_id
    ):
        raise NotFound("no such obligation")
    return obligation


def resolve(
    session: Session,
    registrar: Registrar,
    obligation_id: uuid.UUID,
    action: str,
    *,
    reason: str | None = None,
    ref: str | None = None,
    act: dict[str, Any] | None = None,
    now: datetime,
) -> Obligation:
    """Apply one resolution step (extend, stopped, refuse, rectified …) with actor and reason."""
    obligation_for(session, registrar, obligation_id)
    obligation = orepo.for_update(session, obligation_id)
    step = ACTIONS[obligation.kind].get(action)
    if step is None:
        raise ValidationProblem(
            f"{action} is not a step of a {obligation.kind} obligation",
            type="bad-obligation-action",
            allowed=sorted(ACTIONS[obligation.kind]),
        )
    _check_step(obligation, step, action, reason, ref, act)
    payload: dict[str, Any] = {"ref": ref} if ref else {}
    if step.extends:
        payload |= _extend(session, obligation, step.extends, now)
        due = date.fromisoformat(payload["new_due"]).strftime("%d.%m.%Y")
        _notify(session, obligation, f"Срок продлён до {due} включительно. Причина: {reason}", now)
    if step.act:
        payload["act"] = _destruction_act(session, obligation, act or {}, now)
        obligation.details = {**obligation.details, "act": payload["act"]}
    if action == "refuse" and obligation.kind == "access":
        _refuse_access(session, obligation, reason or "", now)
    _meet(session, obligation, step.meets, now)
    if step.lifts:
        for block in orepo.blocks_of(session, obligation.id):
            block.lifted_at = now
    if step.notice:
        _notify(session, obligation, step.notice, now)
    obligation.status = step.status
    if step.closes:
        obligation.closed_at = now
    _event(session, obligation, action, registrar.actor, now, reason, payload)
    _audit(session, obligation, action, registrar.actor)
    return obligation


def _check_step(obligation: Obligation, step: Action, action: str, reason, ref, act) -> None:
    if obligation.closed_at is not None:
        raise Conflict(
            f"the obligation is closed ({obligation.status})",
            type="obligation-closed",
            status_now=obligation.status,
        )
    if step.after is not None and obligation.status not in step.after:
        raise Conflict(
            f"{action} needs the obligation to be {' or '.join(step.after)}",
            type="invalid-obligation-state",
        )
    if step.reason and not (reason or "").strip():
        raise ValidationProblem(f"{action} needs a reasoned notice", type="reason-required")
    if step.ref and not (ref or "").strip():
        raise ValidationProblem(f"{action} needs a document reference", type="ref-required")
    if step.act and not act:
        raise ValidationProblem("a destruction act is required", type="act-required")


def _extend(session: Session, obligation: Obligation, name: str, now: datetime) -> dict:
    """+5 WD once, and only while the original period runs."""
    clock = next(c for c in orepo.clocks(session, obligation.id) if c.name == name)
    if clock.extended:
        raise Conflict("the period was already extended once", type="already-extended")
    if now >= clock.due_at:
        raise Conflict("the period has already passed", type="period-passed")
    old = clock.due_date
    clock.due_date = deadlines.add_working_days(old, EXTENSION_WD)
    clock.due_at = end_of_day(clock.due_date)
    clock.extended = True
    if obligation.access_request_id is not None:
        request = repo.get_access_request(session, obligation.access_request_id)
        request.extended_due_date = clock.due_date
    session.flush()
    return {"clock": name, "old_due": old.isoformat(), "new_due": clock.due_date.isoformat()}


def _refuse_access(session: Session, obligation: Obligation, reason: str, now: datetime) -> None:
    """A reasoned refusal must come within the (possibly extended) period."""
    clock = next(c for c in orepo.clocks(session, obligation.id) if c.name == "answer")
    if now >= clock.due_at:
        raise Conflict("the period to refuse has passed", type="period-passed")
    request = repo.get_access_request(session, obligation.access_request_id)
    if request.status == "answered":
        raise Conflict("the request is already answered", type="already-answered")
    request.status = "refused"
    request.refusal_reason = reason
    request.answered_at = now
    _notify(session, obligation, "В предоставлении сведений отказано: " + reason, now)


def _meet(session: Session, obligation: Obligation, names: tuple[str, ...], now) -> None:
    for clock in orepo.clocks(session, obligation.id):
        if clock.name in names and clock.met_at is None:
            clock.met_at = now
    session.flush()


ACT_FIELDS = ("destroyed_on", "method", "performed_by", "carriers", "log_extract_ref")


def _destruction_act(
    session: Session, obligation: Obligation, act: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """The RKN Order 179 act: operator, subject, who destroyed, categories, carriers, method,
    reason, date, plus the processing-log extract (automated processing)."""
    from idp import service as idp

    missing = [f for f in ACT_FIELDS if not act.get(f)]
    if missing:
        raise ValidationProblem(
            "the destruction act lacks: " + ", ".join(missing),
            type="incomplete-act",
            missing=missing,
        )
    if date.fromisoformat(str(act["destroyed_on"])) > deadlines.receipt_date(now):
        raise ValidationProblem("the destruction date is in the future", type="time-in-future")
    operator = repo.get_organization(session, obligation.operator_id)
    person = idp.get_person(session, obligation.subject_id)
    task = repo.get_destruction_task(session, obligation.destruction_task_id)
    if task is not None and task.confirmed_at is None:
        task.confirmed_at = now
        task.confirmed_by = f"act:{obligation.id}"
    return {
        "operator": {"name": operator.name, "address": operator.address} if operator else None,
        "subject": {
            "id": str(obligation.subject_id),
            "name": " ".join(
                p for p in (person.last_name, person.first_name, person.middle_name) if p
            )
            if person
            else "",
        },
        "categories": list(obligation.categories),
        "reason": "ст. 21 ч. 6 152-ФЗ: уничтожение в течение 30 дней было невозможно",
        "destroyed_on": str(act["destroyed_on"]),
        "method": act["method"],
        "performed_by": act["performed_by"],
        "carriers": act["carriers"],
        "log_extract_ref": act["log_extract_ref"],
        "recorded_at": now.isoformat(),
    }


# --- reads --------------------------------------------------------------------------------


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
        "clocks": [
            {
                "name": c.name,
                "due_date": c.due_date.isoformat() if c.due_date else None,
                "due_at": c.due_at.isoformat(),
                "extended": c.extended,
                "met_at": c.met_at.isoformat() if c.met_at else None,
            }
            for c in orepo.clocks(session, obligation.id)
        ],
        "events": [
            {
                "seq": e.seq,
                "type": e.type,
                "actor": e.actor,
                "at": e.at.isoformat(),
                "reason": e.reason,
                "payload": e.payload,
            }
            for e in orepo.events(session, obligation.id)
        ],
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
    tasks: list[DestructionTask] = repo.overdue_destruction(session, deadlines.receipt_date(now))
    for t in tasks:
        if operator_id is not None and t.operator_id != operator_id:
            continue
        if orepo.by_destruction_task(session, t.id) is not None:
            continue  # deferred under art. 21 part 6: its own 6-month clock applies
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
