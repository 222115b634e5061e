"""Exam sessions and their takers: who may create, proctor and take an exam (never commits).

A proctor of a school opens a session (a time window of at most 24 hours, the takers, how long
evidence frames are kept); takers are the school's own participants, because the proctor's view
shows each taker's checks and timeline. The policy engine gets each exam's school, proctors and
takers from ``exam_resource``; the checks and the proctor's decisions start from
``taken_exam`` / ``proctored_exam``.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from audit.service import record as audit
from biometrics import repository as repo
from biometrics.enrolment import require_person
from biometrics.models import ExamSession, ExamTaker
from idp import statuses
from propusk.errors import Conflict, Forbidden, NotFound, ValidationProblem

MAX_TAKERS = 500
MAX_KEEP_DAYS = 90
MAX_WINDOW = timedelta(hours=24)


def _outside_school(
    session: Session, person_ids: list[uuid.UUID], school_id: uuid.UUID
) -> list[uuid.UUID]:
    """The people among ``person_ids`` with no active status in the school: a proctor's view
    shows each taker's checks and timeline, so takers are the school's own participants."""
    members = {s.person_id for s in statuses.school_statuses(session, school_id)}
    return [p for p in person_ids if p not in members]


def _is_proctor(session: Session, person_id: uuid.UUID, school_id: uuid.UUID) -> bool:
    return any(
        s.role == "proctor" and s.school_id == school_id
        for s in statuses.active_statuses(session, person_id)
    )


def _check_window(opens_at: datetime, closes_at: datetime, now: datetime) -> None:
    if closes_at <= opens_at or closes_at <= now:
        raise ValidationProblem(
            "the window must end after it opens, in the future", type="bad-window"
        )
    if closes_at - opens_at > MAX_WINDOW:
        raise ValidationProblem("an exam window is at most 24 hours", type="bad-window")


def _require_school_participants(
    session: Session, person_ids: list[uuid.UUID], school_id: uuid.UUID
) -> None:
    """Every taker a known participant with a status in the school (else 404 / 422)."""
    for person_id in person_ids:
        require_person(session, person_id)
    outside = _outside_school(session, person_ids, school_id)
    if outside:
        raise ValidationProblem(
            "takers must have a status in the exam's school: " + ", ".join(str(p) for p in outside),
            type="not-school-participants",
            takers=[str(p) for p in outside],
        )


def create_exam_session(
    session: Session,
    *,
    proctor_id: uuid.UUID,
    school_id: uuid.UUID,
    course: str,
    title: str,
    opens_at: datetime,
    closes_at: datetime,
    takers: list[uuid.UUID],
    keep_frames_days: int,
    now: datetime,
) -> ExamSession:
    """Open an exam session of the proctor's school for its takers (audited)."""
    if not _is_proctor(session, proctor_id, school_id):
        raise Forbidden(
            "only an active proctor of the school may create its exam sessions", type="not-proctor"
        )
    _check_window(opens_at, closes_at, now)
    unique = list(dict.fromkeys(takers))
    if not 1 <= len(unique) <= MAX_TAKERS:
        raise ValidationProblem(f"1 to {MAX_TAKERS} takers", type="bad-takers")
    if not 0 <= keep_frames_days <= MAX_KEEP_DAYS:
        raise ValidationProblem(
            f"frames may be kept 0 to {MAX_KEEP_DAYS} days", type="bad-retention"
        )
    _require_school_participants(session, unique, school_id)
    exam = ExamSession(
        school_id=school_id,
        proctor_id=proctor_id,
        course=course,
        title=title,
        opens_at=opens_at,
        closes_at=closes_at,
        keep_frames_days=keep_frames_days,
        created_at=now,
    )
    repo.add(session, exam)
    for person_id in unique:
        session.add(
            ExamTaker(session_id=exam.id, person_id=person_id, liveness_attempts=0, checks=0)
        )
    session.flush()
    audit(
        session,
        "exam.session.created",
        actor=f"person:{proctor_id}",
        body={"exam_session_id": str(exam.id), "school_id": str(school_id), "takers": len(unique)},
    )
    return exam


def get_exam(session: Session, exam_id: uuid.UUID) -> ExamSession:
    """The exam session, or 404."""
    exam = repo.get_session(session, exam_id)
    if exam is None:
        raise NotFound("no such exam session")
    return exam


def exam_resource(session: Session, exam: ExamSession) -> tuple[str, dict[str, Any]]:
    """(policy domain, resource) of an exam: its school, proctors and takers."""
    proctors = {
        f"person:{s.person_id}"
        for s in statuses.school_statuses(session, exam.school_id, "proctor")
    }
    takers = [f"person:{t.person_id}" for t in repo.takers_of(session, exam.id)]
    domain = f"school:{exam.school_id}"
    return domain, {"schools": [domain], "proctors": sorted(proctors), "takers": takers}


def proctored_exam(session: Session, exam_id: uuid.UUID, person_id: uuid.UUID) -> ExamSession:
    """The exam, if the caller is an active proctor of its school (else 404/403)."""
    exam = get_exam(session, exam_id)
    if not _is_proctor(session, person_id, exam.school_id):
        raise Forbidden("not a proctor of this exam's school", type="not-proctor")
    return exam


def taken_exam(
    session: Session, exam_id: uuid.UUID, person_id: uuid.UUID, now: datetime
) -> tuple[ExamSession, ExamTaker]:
    """The open exam and the caller's taker row (else 404, 403 ``not-taker``, 409 closed)."""
    exam = get_exam(session, exam_id)
    taker = repo.taker(session, exam_id, person_id)
    if taker is None:
        raise Forbidden("not a taker of this exam session", type="not-taker")
    if now < exam.opens_at:
        raise Conflict("the exam has not opened yet", type="exam-not-open")
    if now > exam.closes_at:
        raise Conflict("the exam is closed", type="exam-closed")
    return exam, taker
