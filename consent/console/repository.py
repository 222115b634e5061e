"""Queries of the operator staff's console (``consent.console``): one operator's rows only."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consent.models import (
    Consent,
    ConsentEvent,
    DestructionTask,
    Obligation,
    ObligationClock,
    Template,
    Transfer,
    WithdrawalAck,
)

# The feed events that oblige the operator to stop processing: a withdrawal (art. 9 part 2)
# and a demand to stop processing (art. 21 part 5.1).
STOP_EVENTS = ("withdrawn", "suspended")


def templates_of(session: Session, operator_id: uuid.UUID) -> list[Template]:
    stmt = select(Template).where(Template.operator_id == operator_id)
    return list(session.scalars(stmt.order_by(Template.key, Template.version.desc())))


def consents_page(
    session: Session, operator_id: uuid.UUID, states: Sequence[str], offset: int, limit: int
) -> tuple[list[Consent], int]:
    """The operator's consents (newest request first), filtered by state; and their count."""
    cond = [Consent.operator_id == operator_id]
    if states:
        cond.append(Consent.state.in_(list(states)))
    total = session.scalar(select(func.count()).select_from(Consent).where(*cond)) or 0
    stmt = (
        select(Consent)
        .where(*cond)
        .order_by(Consent.requested_at.desc(), Consent.id)
        .offset(offset)
        .limit(limit)
    )
    return list(session.scalars(stmt)), int(total)


def state_counts(session: Session, operator_id: uuid.UUID) -> dict[str, int]:
    stmt = (
        select(Consent.state, func.count())
        .where(Consent.operator_id == operator_id)
        .group_by(Consent.state)
    )
    return {state: int(n) for state, n in session.execute(stmt)}


def stop_events_page(
    session: Session, operator_id: uuid.UUID, pending_only: bool, offset: int, limit: int
) -> tuple[list[tuple[ConsentEvent, WithdrawalAck | None]], int]:
    """The operator's withdrawals and stop demands (newest first) with their acknowledgement."""
    cond: list[Any] = [ConsentEvent.operator_id == operator_id, ConsentEvent.type.in_(STOP_EVENTS)]
    if pending_only:
        cond.append(WithdrawalAck.event_id.is_(None))
    joined = select(ConsentEvent, WithdrawalAck).outerjoin(
        WithdrawalAck, WithdrawalAck.event_id == ConsentEvent.id
    )
    total = session.scalar(
        select(func.count())
        .select_from(ConsentEvent)
        .outerjoin(WithdrawalAck, WithdrawalAck.event_id == ConsentEvent.id)
        .where(*cond)
    )
    stmt = (
        joined.where(*cond)
        .order_by(ConsentEvent.at.desc(), ConsentEvent.pos.desc())
        .offset(offset)
        .limit(limit)
    )
    rows = [(event, ack) for event, ack in session.execute(stmt)]
    return rows, int(total or 0)


def get_event(session: Session, event_id: uuid.UUID) -> ConsentEvent | None:
    return session.get(ConsentEvent, event_id)


def get_ack(session: Session, event_id: uuid.UUID) -> WithdrawalAck | None:
    return session.get(WithdrawalAck, event_id)


def consents_by_ids(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Consent]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    return {c.id: c for c in session.scalars(select(Consent).where(Consent.id.in_(wanted)))}


def destruction_tasks_of(
    session: Session, operator_id: uuid.UUID, open_only: bool, limit: int
) -> list[DestructionTask]:
    cond: list[Any] = [DestructionTask.operator_id == operator_id]
    if open_only:
        cond.append(DestructionTask.confirmed_at.is_(None))
    stmt = (
        select(DestructionTask)
        .where(*cond)
        .order_by(DestructionTask.confirmed_at.is_not(None), DestructionTask.due_date)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def deferrals_of(session: Session, task_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, date | None]:
    """Of these tasks, those deferred (check 13: an obligation opened) → its destroy-by day."""
    ids = list(set(task_ids))
    if not ids:
        return {}
    stmt = (
        select(Obligation.destruction_task_id, ObligationClock.due_date)
        .outerjoin(
            ObligationClock,
            (ObligationClock.obligation_id == Obligation.id) & (ObligationClock.name == "destroy"),
        )
        .where(Obligation.destruction_task_id.in_(ids))
    )
    return {task_id: due for task_id, due in session.execute(stmt) if task_id is not None}


def transfers_since(
    session: Session, operator_id: uuid.UUID, since: datetime
) -> list[tuple[datetime, list[str], list[str], dict[str, str]]]:
    """(at, requested, allowed, refused) of the operator's transfer records since ``since``."""
    stmt = select(Transfer.at, Transfer.requested, Transfer.allowed, Transfer.refused).where(
        Transfer.operator_id == operator_id, Transfer.at >= since
    )
    return [
        (at, req or [], allowed or [], refused or {})
        for at, req, allowed, refused in session.execute(stmt)
    ]


def stop_events_of_consent(session: Session, consent_id: uuid.UUID) -> list[ConsentEvent]:
    stmt = select(ConsentEvent).where(
        ConsentEvent.consent_id == consent_id, ConsentEvent.type.in_(STOP_EVENTS)
    )
    return list(session.scalars(stmt.order_by(ConsentEvent.seq)))
