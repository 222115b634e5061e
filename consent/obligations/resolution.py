"""Resolving an obligation, one audited step at a time (extend, stopped, refuse, rectified …).

``ACTIONS`` is the table of steps per kind of obligation: the status a step sets, the clocks it
meets, whether it closes the obligation, lifts its blocks, needs a reason, a document reference
or a destruction act (RKN Order 179), extends a clock once (+5 WD) or notifies the subject.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from consent import deadlines, parties
from consent import repository as repo
from consent.models import Obligation
from consent.obligations import blocks, clocks, journal
from consent.obligations import repository as orepo
from consent.obligations.journal import Registrar
from idp import identity
from propusk.errors import Conflict, NotFound, ValidationProblem


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
ACT_FIELDS = ("destroyed_on", "method", "performed_by", "carriers", "log_extract_ref")


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
    step = _step(obligation, action)
    _check_step(obligation, step, action, reason, ref, act)
    payload: dict[str, Any] = {"ref": ref} if ref else {}
    if step.extends:
        payload |= _extend(session, obligation, step.extends, now)
        due = date.fromisoformat(payload["new_due"]).strftime("%d.%m.%Y")
        journal.notify(
            session, obligation, f"Срок продлён до {due} включительно. Причина: {reason}", now
        )
    if step.act:
        payload["act"] = _destruction_act(session, obligation, act or {}, now)
        obligation.details = {**obligation.details, "act": payload["act"]}
    if action == "refuse" and obligation.kind == "access":
        _refuse_access(session, obligation, reason or "", now)
    clocks.meet(session, obligation, step.meets, now)
    if step.lifts:
        blocks.lift(session, obligation, now)
    if step.notice:
        journal.notify(session, obligation, step.notice, now)
    obligation.status = step.status
    if step.closes:
        obligation.closed_at = now
    journal.append(session, obligation, action, registrar.actor, now, reason, payload)
    journal.audit_step(session, obligation, action, registrar.actor)
    return obligation


def _step(obligation: Obligation, action: str) -> Action:
    step = ACTIONS[obligation.kind].get(action)
    if step is None:
        raise ValidationProblem(
            f"{action} is not a step of a {obligation.kind} obligation",
            type="bad-obligation-action",
            allowed=sorted(ACTIONS[obligation.kind]),
        )
    return step


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
    """+5 WD once, while the period runs; an access request's due date follows its clock."""
    old, new = clocks.extend(session, obligation, name, now)
    if obligation.access_request_id is not None:
        request = repo.get_access_request(session, obligation.access_request_id)
        request.extended_due_date = new
    session.flush()
    return {"clock": name, "old_due": old.isoformat(), "new_due": new.isoformat()}


def _refuse_access(session: Session, obligation: Obligation, reason: str, now: datetime) -> None:
    """A reasoned refusal must come within the (possibly extended) period."""
    if now >= clocks.clock(session, obligation, "answer").due_at:
        raise Conflict("the period to refuse has passed", type="period-passed")
    request = repo.get_access_request(session, obligation.access_request_id)
    if request.status == "answered":
        raise Conflict("the request is already answered", type="already-answered")
    request.status = "refused"
    request.refusal_reason = reason
    request.answered_at = now
    journal.notify(session, obligation, "В предоставлении сведений отказано: " + reason, now)


def _destruction_act(
    session: Session, obligation: Obligation, act: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """The RKN Order 179 act: operator, subject, who destroyed, categories, carriers, method,
    reason, date, plus the processing-log extract (automated processing)."""
    missing = [f for f in ACT_FIELDS if not act.get(f)]
    if missing:
        raise ValidationProblem(
            "the destruction act lacks: " + ", ".join(missing),
            type="incomplete-act",
            missing=missing,
        )
    if date.fromisoformat(str(act["destroyed_on"])) > deadlines.receipt_date(now):
        raise ValidationProblem("the destruction date is in the future", type="time-in-future")
    operator = parties.get(session, obligation.operator_id)
    person = identity.get_person(session, obligation.subject_id)
    task = repo.get_destruction_task(session, obligation.destruction_task_id)
    if task is not None and task.confirmed_at is None:
        task.confirmed_at = now
        task.confirmed_by = f"act:{obligation.id}"
    return {
        "operator": {"name": operator.name, "address": operator.address} if operator else None,
        "subject": {
            "id": str(obligation.subject_id),
            "name": identity.full_name(person) if person else "",
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
