"""Queries of the biometrics package (the only module that builds them)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from biometrics.models import (
    ExamCheck,
    ExamEvidence,
    ExamFlag,
    ExamSession,
    ExamTaker,
    FaceTemplate,
)


def add(session: Session, obj: object) -> None:
    session.add(obj)
    session.flush()


# --- templates ---------------------------------------------------------------------------


def template_of(session: Session, person_id: uuid.UUID) -> FaceTemplate | None:
    return session.scalar(select(FaceTemplate).where(FaceTemplate.person_id == person_id))


def delete_template(session: Session, person_id: uuid.UUID) -> int:
    """Delete the row outright (no soft delete: the blob must be gone)."""
    result = session.execute(delete(FaceTemplate).where(FaceTemplate.person_id == person_id))
    return result.rowcount or 0


# --- exam sessions -----------------------------------------------------------------------


def get_session(session: Session, exam_id: uuid.UUID) -> ExamSession | None:
    return session.get(ExamSession, exam_id)


def sessions_of_proctor(
    session: Session, proctor_id: uuid.UUID, school_ids: Sequence[uuid.UUID]
) -> list[ExamSession]:
    """The sessions a proctor opened in these schools, the latest window first."""
    if not school_ids:
        return []
    rows = session.scalars(
        select(ExamSession)
        .where(ExamSession.proctor_id == proctor_id, ExamSession.school_id.in_(list(school_ids)))
        .order_by(ExamSession.opens_at.desc(), ExamSession.id)
    )
    return list(rows)


def takers_of_sessions(session: Session, exam_ids: Sequence[uuid.UUID]) -> list[ExamTaker]:
    if not exam_ids:
        return []
    return list(session.scalars(select(ExamTaker).where(ExamTaker.session_id.in_(list(exam_ids)))))


def delete_taker(session: Session, taker: ExamTaker) -> None:
    session.delete(taker)
    session.flush()


def takers_of(session: Session, exam_id: uuid.UUID) -> list[ExamTaker]:
    rows = session.scalars(
        select(ExamTaker).where(ExamTaker.session_id == exam_id).order_by(ExamTaker.id)
    )
    return list(rows)


def exams_of_taker(session: Session, person_id: uuid.UUID) -> list[tuple[ExamSession, ExamTaker]]:
    """Every exam session the person is a taker of with their taker row, newest window first."""
    rows = session.execute(
        select(ExamSession, ExamTaker)
        .join(ExamTaker, ExamTaker.session_id == ExamSession.id)
        .where(ExamTaker.person_id == person_id)
        .order_by(ExamSession.opens_at.desc(), ExamSession.id)
    )
    return [(exam, taker) for exam, taker in rows.tuples()]


def taker(session: Session, exam_id: uuid.UUID, person_id: uuid.UUID) -> ExamTaker | None:
    return session.scalar(
        select(ExamTaker).where(ExamTaker.session_id == exam_id, ExamTaker.person_id == person_id)
    )


def taker_for_update(
    session: Session, exam_id: uuid.UUID, person_id: uuid.UUID
) -> ExamTaker | None:
    """Row lock: a taker's checks are numbered one after another (seq), never twice.

    ``populate_existing``: the row was usually loaded earlier in this transaction (before the
    CPU work); the locked read must overwrite those stale attributes (nonce, counters).
    """
    return session.scalar(
        select(ExamTaker)
        .where(ExamTaker.session_id == exam_id, ExamTaker.person_id == person_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


# --- checks, flags, evidence -------------------------------------------------------------


def seen_hashes(
    session: Session, taker_id: uuid.UUID, frame_hashes: Sequence[str], pixel_hashes: Sequence[str]
) -> int:
    """How many earlier checks of this taker had one of these frames (bytes or pixels)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(ExamCheck)
            .where(
                ExamCheck.taker_id == taker_id,
                or_(
                    ExamCheck.frame_sha256.in_(list(frame_hashes)),
                    ExamCheck.pixel_sha256.in_(list(pixel_hashes)),
                ),
            )
        )
        or 0
    )


def checks_of(session: Session, taker_ids: Sequence[uuid.UUID]) -> list[ExamCheck]:
    if not taker_ids:
        return []
    rows = session.scalars(
        select(ExamCheck)
        .where(ExamCheck.taker_id.in_(list(taker_ids)))
        .order_by(ExamCheck.taker_id, ExamCheck.seq)
    )
    return list(rows)


def last_checks(session: Session, taker_id: uuid.UUID, kind: str, limit: int) -> list[ExamCheck]:
    """The newest ``limit`` checks of a kind, oldest first."""
    rows = session.scalars(
        select(ExamCheck)
        .where(ExamCheck.taker_id == taker_id, ExamCheck.kind == kind)
        .order_by(ExamCheck.seq.desc())
        .limit(limit)
    )
    return list(reversed(list(rows)))


def checks_since(session: Session, taker_id: uuid.UUID, kind: str, since: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(ExamCheck)
            .where(ExamCheck.taker_id == taker_id, ExamCheck.kind == kind, ExamCheck.at >= since)
        )
        or 0
    )


def flags_of(session: Session, taker_ids: Sequence[uuid.UUID]) -> list[ExamFlag]:
    if not taker_ids:
        return []
    rows = session.scalars(
        select(ExamFlag)
        .where(ExamFlag.taker_id.in_(list(taker_ids)))
        .order_by(ExamFlag.taker_id, ExamFlag.first_seq)
    )
    return list(rows)


def flagged_takers(session: Session, taker_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these takers have at least one flag."""
    if not taker_ids:
        return set()
    rows = session.scalars(
        select(ExamFlag.taker_id).where(ExamFlag.taker_id.in_(list(taker_ids))).distinct()
    )
    return set(rows)


def open_flag(session: Session, taker_id: uuid.UUID, kind: str, seq: int) -> ExamFlag | None:
    """The flag of this kind whose run ended at the previous check (to extend it)."""
    return session.scalar(
        select(ExamFlag).where(
            ExamFlag.taker_id == taker_id, ExamFlag.kind == kind, ExamFlag.last_seq == seq - 1
        )
    )


def evidence_of_check(
    session: Session, taker_id: uuid.UUID, seq: int
) -> tuple[ExamCheck, ExamEvidence] | None:
    """A check of the taker and its kept frame, if the frame was kept."""
    row = session.execute(
        select(ExamCheck, ExamEvidence)
        .join(ExamEvidence, ExamEvidence.check_id == ExamCheck.id)
        .where(ExamCheck.taker_id == taker_id, ExamCheck.seq == seq)
    ).first()
    return (row[0], row[1]) if row else None


def kept_check_ids(session: Session, check_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these checks still have their frame kept."""
    if not check_ids:
        return set()
    rows = session.scalars(
        select(ExamEvidence.check_id).where(ExamEvidence.check_id.in_(list(check_ids)))
    )
    return set(rows)


def evidence_count(session: Session, person_id: uuid.UUID) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(ExamEvidence)
            .where(ExamEvidence.person_id == person_id)
        )
        or 0
    )


def delete_evidence_of(session: Session, person_id: uuid.UUID) -> int:
    result = session.execute(delete(ExamEvidence).where(ExamEvidence.person_id == person_id))
    return result.rowcount or 0


def delete_expired_evidence(session: Session, now: datetime) -> int:
    result = session.execute(delete(ExamEvidence).where(ExamEvidence.expires_at <= now))
    return result.rowcount or 0
