"""Queries of the operator staff's console (``consent.console``): one operator's rows only."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, select, text
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


def get_event(session: Session, event_id: uuid.UUID, *, lock: bool = False) -> ConsentEvent | None:
    """The feed event; ``lock``: held until the transaction ends (PostgreSQL ``FOR UPDATE``),
    so that two acknowledgements of one event run one after the other."""
    return session.get(ConsentEvent, event_id, with_for_update=lock or None)


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


# Per category, how often it was transferred (``allowed``) and refused (``refused``: its keys)
# in each period, counted by the database (a busy operator's year is millions of records).
_CATEGORY_COUNTS = {
    "postgresql": (
        "SELECT c.key, c.outcome, {periods} FROM ("
        " SELECT t.at, a.key, 'allowed' AS outcome FROM consent_transfer t,"
        "  json_array_elements_text(t.allowed) AS a(key)"
        "  WHERE t.operator_id = :operator AND t.at >= :since"
        " UNION ALL"
        " SELECT t.at, r.key, 'refused' FROM consent_transfer t,"
        "  json_object_keys(t.refused) AS r(key)"
        "  WHERE t.operator_id = :operator AND t.at >= :since"
        ") c GROUP BY c.key, c.outcome"
    ),
    "sqlite": (
        "SELECT c.key, c.outcome, {periods} FROM ("
        " SELECT t.at, a.value AS key, 'allowed' AS outcome FROM consent_transfer t,"
        "  json_each(t.allowed) AS a WHERE t.operator_id = :operator AND t.at >= :since"
        " UNION ALL"
        " SELECT t.at, r.key, 'refused' FROM consent_transfer t, json_each(t.refused) AS r"
        "  WHERE t.operator_id = :operator AND t.at >= :since"
        ") c GROUP BY c.key, c.outcome"
    ),
}


def transfer_counts(
    session: Session, operator_id: uuid.UUID, starts: Sequence[datetime]
) -> tuple[list[int], list[tuple[str, str, list[int]]]]:
    """For each start: the operator's transfer records since then, and per (category,
    ``allowed``/``refused``) the number of those records naming it."""
    since = min(starts)
    marks = {f"p{i}": start for i, start in enumerate(starts)}
    records = session.execute(
        select(
            *(
                func.count().filter(Transfer.at >= start).label(name)
                for name, start in marks.items()
            )
        ).where(Transfer.operator_id == operator_id, Transfer.at >= since)
    ).one()
    dialect = session.get_bind().dialect.name
    # the instants as the column stores them (SQLite: UTCDateTime's text), bound by the column
    at_type = Transfer.__table__.c.at.type
    bind = [bindparam(name, value, type_=at_type) for name, value in marks.items()]
    periods = ", ".join(f"count(CASE WHEN c.at >= :{name} THEN 1 END)" for name in marks)
    stmt = text(_CATEGORY_COUNTS[dialect].format(periods=periods)).bindparams(
        *bind,
        bindparam("since", since, type_=at_type),
        bindparam("operator", operator_id, type_=Transfer.__table__.c.operator_id.type),
    )
    rows = [(key, outcome, list(counts)) for key, outcome, *counts in session.execute(stmt)]
    return [int(n or 0) for n in records], rows


def stop_events_of_consent(session: Session, consent_id: uuid.UUID) -> list[ConsentEvent]:
    stmt = select(ConsentEvent).where(
        ConsentEvent.consent_id == consent_id, ConsentEvent.type.in_(STOP_EVENTS)
    )
    return list(session.scalars(stmt.order_by(ConsentEvent.seq)))


def open_stop_demand(
    session: Session, operator_id: uuid.UUID, consent_id: uuid.UUID
) -> Obligation | None:
    """The open demand to stop processing (check 9) that suspended this consent, if any."""
    stmt = select(Obligation).where(
        Obligation.kind == "stop_processing",
        Obligation.operator_id == operator_id,
        Obligation.consent_id == consent_id,
        Obligation.closed_at.is_(None),
    )
    return session.scalars(stmt.order_by(Obligation.received_at.desc()).limit(1)).first()
