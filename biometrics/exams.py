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
from idp import identity, schools, statuses
from propusk.errors import Conflict, Forbidden, NotFound, ValidationProblem

MAX_TAKERS = 500
MAX_KEEP_DAYS = 90
MAX_WINDOW = timedelta(hours=24)
MAX_CANDIDATES = 200  # students one search answers (narrow it by name or class)


def _outside_school(
    session: Session, person_ids: list[uuid.UUID], school_id: uuid.UUID
) -> list[uuid.UUID]:
    """The people among ``person_ids`` with no active status in the school: a proctor's view
    shows each taker's checks and timeline, so takers are the school's own participants."""
    members = {s.person_id for s in statuses.school_statuses(session, school_id)}
    return [p for p in person_ids if p not in members]


def is_proctor(session: Session, person_id: uuid.UUID, school_id: uuid.UUID) -> bool:
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
    if not is_proctor(session, proctor_id, school_id):
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
    """(policy domain, resource) of an exam: its school, its proctor and takers.

    The proctor of a session is the one who opened it, while they hold an active ``proctor``
    status in the school: another proctor of the same school does not see its takers' photos
    and checks."""
    proctors = (
        [f"person:{exam.proctor_id}"]
        if is_proctor(session, exam.proctor_id, exam.school_id)
        else []
    )
    takers = [f"person:{t.person_id}" for t in repo.takers_of(session, exam.id)]
    domain = f"school:{exam.school_id}"
    return domain, {"schools": [domain], "proctors": proctors, "takers": takers}


def proctored_exam(session: Session, exam_id: uuid.UUID, person_id: uuid.UUID) -> ExamSession:
    """The exam, if the caller is its proctor and still an active proctor of its school (else
    404/403)."""
    exam = get_exam(session, exam_id)
    if exam.proctor_id != person_id or not is_proctor(session, person_id, exam.school_id):
        raise Forbidden("not the proctor of this exam session", type="not-session-proctor")
    return exam


# --- the proctor's console: their schools, sessions, the school's students -----------------


def proctor_schools(session: Session, person_id: uuid.UUID) -> list[Any]:
    """The schools where the person is an active proctor, by name."""
    ids = {
        s.school_id
        for s in statuses.active_statuses(session, person_id)
        if s.role == "proctor" and s.school_id is not None
    }
    return sorted((schools.get_school(session, i) for i in ids), key=lambda s: s.name)


def window_state(exam: ExamSession, now: datetime) -> str:
    if now < exam.opens_at:
        return "upcoming"
    return "open" if now <= exam.closes_at else "closed"


def sessions_of(session: Session, proctor_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    """The proctor's schools and the sessions they opened there (latest window first), with
    counts of takers, started, flagged and decided attempts."""
    mine = proctor_schools(session, proctor_id)
    names = {s.id: s.name for s in mine}
    exams = repo.sessions_of_proctor(session, proctor_id, list(names))
    takers = repo.takers_of_sessions(session, [e.id for e in exams])
    flagged = repo.flagged_takers(session, [t.id for t in takers])
    out = []
    for exam in exams:
        rows = [t for t in takers if t.session_id == exam.id]
        out.append(
            {
                "id": str(exam.id),
                "school_id": str(exam.school_id),
                "school_name": names[exam.school_id],
                "course": exam.course,
                "title": exam.title,
                "opens_at": exam.opens_at.isoformat(),
                "closes_at": exam.closes_at.isoformat(),
                "window": window_state(exam, now),
                "takers": len(rows),
                "started": sum(1 for t in rows if t.started_at is not None),
                "flagged": sum(1 for t in rows if t.id in flagged and t.decision is None),
                "decided": sum(1 for t in rows if t.decision is not None),
            }
        )
    return {
        "schools": [{"id": str(s.id), "name": s.name} for s in mine],
        "sessions": out,
    }


def _norm(value: str | None) -> str:
    return " ".join((value or "").casefold().replace("ё", "е").split())


def school_students(
    session: Session, school_id: uuid.UUID, *, query: str | None, class_name: str | None
) -> dict[str, Any]:
    """The school's students (an active ``student`` status) matching a name and a class, by
    class and name: what a proctor picks takers from (idp's own statuses and people)."""
    rows = statuses.school_statuses(session, school_id, "student")
    classes = sorted({s.class_name for s in rows if s.class_name})
    wanted_class = _norm(class_name)
    if wanted_class:
        rows = [s for s in rows if _norm(s.class_name) == wanted_class]
    class_of = {s.person_id: s.class_name for s in rows}
    people = identity.get_people(session, list(class_of))
    words = _norm(query).split()
    found = [
        {"person_id": str(p.id), "name": identity.full_name(p), "class_name": class_of[p.id]}
        for p in people
        if all(w in _norm(identity.full_name(p)) for w in words)
    ]
    found.sort(key=lambda r: (r["class_name"] or "", r["name"]))
    return {
        "school_id": str(school_id),
        "classes": classes,
        "students": found[:MAX_CANDIDATES],
        "more": len(found) > MAX_CANDIDATES,
    }


def taker_people(
    session: Session, school_id: uuid.UUID, person_ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, str | None]]:
    """(full name, class in the school) of each taker."""
    classes = {
        s.person_id: s.class_name
        for s in statuses.school_statuses(session, school_id, "student")
        if s.person_id in set(person_ids)
    }
    return {
        p.id: (identity.full_name(p), classes.get(p.id))
        for p in identity.get_people(session, person_ids)
    }


def add_takers(
    session: Session,
    exam: ExamSession,
    person_ids: list[uuid.UUID],
    *,
    actor: uuid.UUID,
    now: datetime,
) -> int:
    """Add the school's participants to a session that has not closed (the ones already in it
    are left as they are); answers how many were added (audited)."""
    if now > exam.closes_at:
        raise Conflict("the exam is closed", type="exam-closed")
    present = {t.person_id for t in repo.takers_of(session, exam.id)}
    new = [p for p in dict.fromkeys(person_ids) if p not in present]
    if len(present) + len(new) > MAX_TAKERS:
        raise ValidationProblem(f"1 to {MAX_TAKERS} takers", type="bad-takers")
    _require_school_participants(session, new, exam.school_id)
    for person_id in new:
        session.add(
            ExamTaker(session_id=exam.id, person_id=person_id, liveness_attempts=0, checks=0)
        )
    session.flush()
    if new:
        audit(
            session,
            "exam.takers.added",
            actor=f"person:{actor}",
            body={"exam_session_id": str(exam.id), "takers": len(new)},
        )
    return len(new)


def remove_taker(
    session: Session, exam: ExamSession, person_id: uuid.UUID, *, actor: uuid.UUID
) -> None:
    """Take a participant off a session before they started it (409 once they have)."""
    taker = repo.taker_for_update(session, exam.id, person_id)
    if taker is None:
        raise NotFound("not a taker of this exam session")
    if taker.started_at is not None or taker.checks or taker.decision is not None:
        raise Conflict("the taker has already started the exam", type="taker-started")
    repo.delete_taker(session, taker)
    audit(
        session,
        "exam.taker.removed",
        actor=f"person:{actor}",
        subject=f"person:{person_id}",
        body={"exam_session_id": str(exam.id)},
    )


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
