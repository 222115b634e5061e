"""Queries of the 152-FZ obligations (the only place that builds them)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from consent.models import (
    Block,
    Obligation,
    ObligationClock,
    ObligationEvent,
    SubjectNotice,
)


def add(session: Session, row) -> None:
    session.add(row)
    session.flush()


def get(session: Session, obligation_id: uuid.UUID) -> Obligation | None:
    return session.get(Obligation, obligation_id)


def for_update(session: Session, obligation_id: uuid.UUID) -> Obligation | None:
    """The row locked ``FOR UPDATE``: two resolutions of one obligation serialise here."""
    stmt = select(Obligation).where(Obligation.id == obligation_id).with_for_update()
    return session.scalars(stmt.execution_options(populate_existing=True)).first()


def by_access_request(session: Session, request_id: uuid.UUID) -> Obligation | None:
    stmt = select(Obligation).where(
        Obligation.kind == "access", Obligation.access_request_id == request_id
    )
    return session.scalars(stmt).first()


def by_destruction_task(session: Session, task_id: uuid.UUID) -> Obligation | None:
    stmt = select(Obligation).where(Obligation.destruction_task_id == task_id)
    return session.scalars(stmt).first()


def of_subject(session: Session, subject_id: uuid.UUID) -> list[Obligation]:
    stmt = select(Obligation).where(Obligation.subject_id == subject_id)
    return list(session.scalars(stmt.order_by(Obligation.received_at)))


def events(session: Session, obligation_id: uuid.UUID) -> list[ObligationEvent]:
    stmt = select(ObligationEvent).where(ObligationEvent.obligation_id == obligation_id)
    return list(session.scalars(stmt.order_by(ObligationEvent.seq)))


def clocks(session: Session, obligation_id: uuid.UUID) -> list[ObligationClock]:
    stmt = select(ObligationClock).where(ObligationClock.obligation_id == obligation_id)
    return list(session.scalars(stmt.order_by(ObligationClock.due_at)))


def overdue_clocks(
    session: Session, now: datetime, operator_id: uuid.UUID | None = None
) -> list[tuple[ObligationClock, Obligation]]:
    """Unmet clocks whose instant has passed (optionally of one operator), oldest first."""
    stmt = (
        select(ObligationClock, Obligation)
        .join(Obligation, Obligation.id == ObligationClock.obligation_id)
        .where(ObligationClock.met_at.is_(None), ObligationClock.due_at <= now)
    )
    if operator_id is not None:
        stmt = stmt.where(Obligation.operator_id == operator_id)
    rows = session.execute(stmt.order_by(ObligationClock.due_at))
    return [(clock, obligation) for clock, obligation in rows]


def active_blocks(
    session: Session, subject_id: uuid.UUID, now: datetime, operator_id: uuid.UUID | None = None
) -> list[Block]:
    """Blocks in force now; with ``operator_id`` only those for every operator or for it."""
    stmt = select(Block).where(
        Block.subject_id == subject_id, Block.lifted_at.is_(None), Block.started_at <= now
    )
    if operator_id is not None:
        stmt = stmt.where(or_(Block.operator_id.is_(None), Block.operator_id == operator_id))
    return list(session.scalars(stmt))


def blocks_of(session: Session, obligation_id: uuid.UUID) -> list[Block]:
    stmt = select(Block).where(Block.obligation_id == obligation_id, Block.lifted_at.is_(None))
    return list(session.scalars(stmt))


def notices_of(session: Session, subject_id: uuid.UUID) -> list[SubjectNotice]:
    stmt = select(SubjectNotice).where(SubjectNotice.subject_id == subject_id)
    return list(session.scalars(stmt.order_by(SubjectNotice.at)))


def open_obligations(
    session: Session, operator_id: uuid.UUID | None, limit: int
) -> list[Obligation]:
    """Unclosed obligations, oldest first (of one operator, or all for the platform)."""
    stmt = select(Obligation).where(Obligation.closed_at.is_(None))
    if operator_id is not None:
        stmt = stmt.where(Obligation.operator_id == operator_id)
    return list(session.scalars(stmt.order_by(Obligation.received_at).limit(limit)))
