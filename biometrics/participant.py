"""The participant's own view of biometrics and exams: the cabinet's two sections (never commits).

``biometrics_overview`` answers what a person (or the representative looking at a child) needs to
decide about the face template: the written biometric consent's requests and state (who signed,
who still must, the signing page when the caller is the one to sign), the enrolment status, and
what the caller may do now (enrol, delete) under ``consent.representation``. ``exams_of`` lists
the exam sessions the subject is a taker of with the state of their attempt; only the taker
themselves gets the link to the exam page (a parent does not take a child's exam).

The caller is authorised by the route (representation and the policy); these functions only read.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from biometrics import enrolment
from biometrics import repository as repo
from biometrics.models import ExamSession, ExamTaker
from consent import lifecycle, parties, representation, signatures
from idp import guardianship, schools
from propusk.errors import Forbidden

PENDING = ("requested", "partially_given")
# How many of the subject's biometric consents the overview shows (newest first): the current
# one, a pending request and the last ended ones are all a person needs to see here.
MAX_CONSENTS = 5


def _may(
    session: Session, actor_id: uuid.UUID, subject_id: uuid.UUID, now: datetime, act: str
) -> bool:
    """Whether the actor may do ``act`` for the subject now (``consent.representation``)."""
    try:
        representation.acting_role(session, actor_id, subject_id, now, act)  # type: ignore[arg-type]
    except Forbidden:
        return False
    return True


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _consent_view(
    consent: Any,
    *,
    operator: str | None,
    active_id: uuid.UUID | None,
    required: set[str],
    actor_role: str,
    may_sign: bool,
) -> dict[str, Any]:
    signed = {s.get("role") for s in consent.signatures}
    pending = consent.state in PENDING
    sign_here = pending and may_sign and actor_role in required - signed
    return {
        "id": consent.id,
        "state": consent.state,
        "active": consent.id == active_id,
        "operator_name": operator,
        "form": consent.form,
        "requested_at": _iso(consent.requested_at),
        "request_expires_at": _iso(consent.request_expires_at),
        "given_at": _iso(consent.given_at),
        "valid_until": _iso(consent.valid_until),
        "ended_at": _iso(consent.ended_at),
        "signed_roles": sorted(r for r in signed if r),
        "required_roles": sorted(required),
        "may_sign": sign_here,
        "sign_url": f"/sign/{consent.id}" if sign_here else None,
    }


def biometrics_overview(
    session: Session, *, actor_id: uuid.UUID, subject_id: uuid.UUID, now: datetime
) -> dict[str, Any]:
    """The biometric consent(s), the enrolment status and what the caller may do now."""
    person = enrolment.require_person(session, subject_id)
    age = guardianship.age_group(person, on=guardianship.local_date(now))
    actor_role = "subject" if actor_id == subject_id else "guardian"
    rows = [
        c
        for c in lifecycle.list_consents(session, subject_id, now)
        if c.purpose_key == enrolment.PURPOSE and enrolment.CATEGORY in c.categories
    ]
    rows.sort(key=lambda c: c.requested_at or now, reverse=True)
    rows = rows[:MAX_CONSENTS]
    active = enrolment.biometric_consent(session, subject_id, now)
    names = parties.many(session, {c.operator_id for c in rows})
    required = signatures.required_roles(age)
    may_sign = _may(session, actor_id, subject_id, now, "sign")
    consents = [
        _consent_view(
            c,
            operator=names[c.operator_id].name if c.operator_id in names else None,
            active_id=active.id if active else None,
            required=required,
            actor_role=actor_role,
            may_sign=may_sign,
        )
        for c in rows
    ]
    return {
        "subject_id": subject_id,
        "own": actor_id == subject_id,
        "age_group": age,
        "acting_as": actor_role,
        "consent_active": active is not None,
        "consents": consents,
        "may_enrol": _may(session, actor_id, subject_id, now, "demand"),
        "may_delete": _may(session, actor_id, subject_id, now, "withdraw"),
        "enrolment": enrolment.enrolment_status(session, subject_id, now),
    }


# --- exams --------------------------------------------------------------------------------


def _window(exam: ExamSession, now: datetime) -> str:
    if now < exam.opens_at:
        return "upcoming"
    return "closed" if now > exam.closes_at else "open"


def _attempt_state(taker: ExamTaker) -> str:
    if taker.decision:
        return taker.decision
    if taker.liveness_passed_at is not None:
        return "liveness_passed"
    return "started" if taker.started_at is not None else "not_started"


def exams_of(
    session: Session, *, actor_id: uuid.UUID, subject_id: uuid.UUID, now: datetime
) -> dict[str, Any]:
    """The subject's exam sessions as a taker, newest window first, with their attempt."""
    enrolment.require_person(session, subject_id)
    own = actor_id == subject_id
    rows = repo.exams_of_taker(session, subject_id)
    school_names: dict[uuid.UUID, str] = {}
    for exam, _ in rows:
        if exam.school_id not in school_names:
            school = schools.get_school(session, exam.school_id)
            school_names[exam.school_id] = school.short_name or school.name
    exams = []
    for exam, taker in rows:
        window = _window(exam, now)
        exams.append(
            {
                "id": exam.id,
                "title": exam.title,
                "course": exam.course,
                "school_id": exam.school_id,
                "school_name": school_names[exam.school_id],
                "opens_at": exam.opens_at.isoformat(),
                "closes_at": exam.closes_at.isoformat(),
                "window": window,
                "state": _attempt_state(taker),
                "path": taker.path,
                "started_at": _iso(taker.started_at),
                "decided_at": _iso(taker.decided_at),
                "take_url": f"/exams/{exam.id}/take" if own and window == "open" else None,
            }
        )
    return {"subject_id": subject_id, "own": own, "exams": exams}
