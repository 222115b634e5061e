"""What the operator staff's console reads and does, for one operator organisation.

Every function takes the operator (``consent.parties.Party``) the route resolved from the path
(the policy has already checked the caller's ``operator_staff`` status in ``org:<id>``) and
answers 404 for another operator's rows: a staff member of one operator never learns what
another's ids hold. What the staff reads names the subject only by name (needed to act on a
withdrawal or to destroy data) — never their SNILS, birth date or contacts — and names
categories and purposes by their catalogue titles. The acts are the operator client's own
service functions; nothing here commits.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from audit.service import record as audit
from consent import deadlines, destruction, obligations, templates
from consent import repository as consent_repo
from consent.console import repository as repo
from consent.models import Consent, ConsentEvent, DestructionTask, Template, WithdrawalAck
from consent.participant import Names, names_for
from consent.parties import Party
from idp.identity import full_name, get_people
from propusk.errors import Conflict, NotFound

# The periods of the transfer statistics: (key, days back from now).
PERIODS = (("week", 7), ("month", 30), ("year", 365))
UNKNOWN_PERSON = "участник"


def _person_ids(actors: list[str]) -> list[uuid.UUID]:
    ids = []
    for actor in actors:
        kind, _, value = (actor or "").partition(":")
        if kind == "person":
            try:
                ids.append(uuid.UUID(value))
            except ValueError:
                continue
    return ids


def people_names(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Full names of these people (no other attribute of theirs leaves this function)."""
    return {p.id: full_name(p) for p in get_people(session, set(ids))}


def actor_name(names: dict[uuid.UUID, str], actor: str | None) -> str | None:
    """The name of a ``person:<id>`` actor; None for a system or client actor."""
    ids = _person_ids([actor or ""])
    return names.get(ids[0]) if ids else None


# --- templates ------------------------------------------------------------------------------


def templates_of(session: Session, operator: Party) -> tuple[list[Template], Names]:
    rows = repo.templates_of(session, operator.id)
    names = names_for(
        session,
        categories={c for t in rows for c in t.categories},
        purposes={t.purpose_key for t in rows},
    )
    return rows, names


def template_of(
    session: Session, operator: Party, template_id: uuid.UUID
) -> tuple[Template, Names]:
    row = consent_repo.get_template(session, template_id)
    if row is None or row.operator_id != operator.id:
        raise NotFound("no such template of this operator", type="unknown-template")
    return row, names_for(session, categories=row.categories, purposes=[row.purpose_key])


def publish(session: Session, operator: Party, data: dict[str, Any], *, actor: str) -> Template:
    """The next version, checked exactly as the operator client's ``POST /consent/templates``."""
    return templates.publish_template(session, operator, data, actor=actor)


# --- requests (consents) ----------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentsPage:
    consents: list[Consent]
    total: int
    counts: dict[str, int]
    subjects: dict[uuid.UUID, str]
    templates: dict[uuid.UUID, Template]
    names: Names


def consents_page(
    session: Session, operator: Party, states: list[str], offset: int, limit: int
) -> ConsentsPage:
    rows, total = repo.consents_page(session, operator.id, states, offset, limit)
    return ConsentsPage(
        rows,
        total,
        repo.state_counts(session, operator.id),
        people_names(session, [c.subject_id for c in rows]),
        consent_repo.templates_by_ids(session, {c.template_id for c in rows}),
        names_for(
            session,
            categories={k for c in rows for k in c.categories},
            purposes={c.purpose_key for c in rows},
        ),
    )


# --- the withdrawal feed and its acknowledgements -------------------------------------------


@dataclass(frozen=True)
class StopFeed:
    rows: list[tuple[ConsentEvent, WithdrawalAck | None]]
    total: int
    consents: dict[uuid.UUID, Consent]
    people: dict[uuid.UUID, str]
    names: Names


def stop_feed(
    session: Session, operator: Party, pending_only: bool, offset: int, limit: int
) -> StopFeed:
    """Withdrawals and demands to stop processing, newest first, with who acknowledged them."""
    rows, total = repo.stop_events_page(session, operator.id, pending_only, offset, limit)
    return stop_feed_of(session, rows, total)


def stop_feed_of(
    session: Session, rows: list[tuple[ConsentEvent, WithdrawalAck | None]], total: int
) -> StopFeed:
    """These feed events with their consents, the people's names and the catalogue titles."""
    consents = repo.consents_by_ids(session, {e.consent_id for e, _ in rows})
    people = [e.subject_id for e, _ in rows] + _person_ids(
        [a.acknowledged_by for _, a in rows if a is not None]
    )
    return StopFeed(
        rows,
        total,
        consents,
        people_names(session, people),
        names_for(
            session,
            categories={k for c in consents.values() for k in c.categories},
            purposes={c.purpose_key for c in consents.values()},
        ),
    )


def stop_events_of_consent(session: Session, consent_id: uuid.UUID) -> list[ConsentEvent]:
    """The withdrawal and stop demands of one consent (to acknowledge them)."""
    return repo.stop_events_of_consent(session, consent_id)


def acknowledge(
    session: Session, operator: Party, event_id: uuid.UUID, *, actor: str, now: datetime
) -> tuple[ConsentEvent, WithdrawalAck]:
    """The operator has stopped processing after this withdrawal or stop demand: who, when
    (once; audited ``consent.withdrawal.acknowledged``). For a demand to stop processing it is
    also the obligation's ``stopped`` step (check 9: its clock met, the subject's demand
    answered), through the register's own ``obligations.resolve``. The event is locked first:
    a second acknowledgement at the same moment waits and is told it is done (409), not a
    duplicate key (500)."""
    event = repo.get_event(session, event_id, lock=True)
    if event is None or event.operator_id != operator.id or event.type not in repo.STOP_EVENTS:
        raise NotFound("no such withdrawal of this operator", type="unknown-withdrawal")
    if repo.get_ack(session, event.id) is not None:
        raise Conflict("the withdrawal is already acknowledged", type="already-acknowledged")
    ack = WithdrawalAck(
        event_id=event.id, operator_id=operator.id, acknowledged_by=actor, acknowledged_at=now
    )
    consent_repo.add(session, ack)
    if event.type == "suspended":
        demand = repo.open_stop_demand(session, operator.id, event.consent_id)
        if demand is not None:
            registrar = obligations.Registrar(actor, operator.id)
            obligations.resolve(session, registrar, demand.id, "stopped", now=now)
    audit(
        session,
        "consent.withdrawal.acknowledged",
        actor=actor,
        subject=f"person:{event.subject_id}",
        body={"event_id": str(event.id), "consent_id": str(event.consent_id), "type": event.type},
    )
    return event, ack


# --- destruction tasks ----------------------------------------------------------------------


@dataclass(frozen=True)
class Tasks:
    tasks: list[DestructionTask]
    deferrals: dict[uuid.UUID, date | None]  # deferred tasks → destroy-by day
    people: dict[uuid.UUID, str]
    names: Names
    today: date


def destruction_tasks(
    session: Session, operator: Party, open_only: bool, now: datetime, limit: int = 500
) -> Tasks:
    """The operator's destruction tasks (open first, by deadline), with the subject's name."""
    rows = repo.destruction_tasks_of(session, operator.id, open_only, limit)
    return _tasks(session, rows, now)


def _tasks(session: Session, rows: list[DestructionTask], now: datetime) -> Tasks:
    people = [t.subject_id for t in rows] + _person_ids([t.confirmed_by or "" for t in rows])
    return Tasks(
        rows,
        repo.deferrals_of(session, [t.id for t in rows]),
        people_names(session, people),
        names_for(session, categories={k for t in rows for k in t.categories}),
        deadlines.receipt_date(now),
    )


def confirm(
    session: Session, operator: Party, task_id: uuid.UUID, *, actor: str, now: datetime
) -> Tasks:
    """Confirm the destruction (the client route's ``destruction.confirm_destruction``)."""
    task = destruction.confirm_destruction(session, operator, task_id, actor=actor, now=now)
    return _tasks(session, [task], now)


def defer(
    session: Session,
    operator: Party,
    task_id: uuid.UUID,
    *,
    reason: str,
    actor: str,
    now: datetime,
) -> Tasks:
    """Destruction impossible in 30 days (check 13): the client route's service, for this
    operator only."""
    registrar = obligations.Registrar(actor, operator.id)
    obligations.defer_destruction(session, registrar, task_id, reason=reason, now=now)
    task = consent_repo.get_destruction_task(session, task_id)
    assert task is not None  # defer_destruction found it
    return _tasks(session, [task], now)


# --- transfer statistics ----------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodStats:
    key: str
    since: datetime
    records: int
    allowed: Counter
    refused: Counter


def transfer_stats(
    session: Session, operator: Party, now: datetime
) -> tuple[list[PeriodStats], Names]:
    """Per period: how many transfer records, and per category how often it was transferred
    and how often refused (counted by the database)."""
    starts = [now - timedelta(days=days) for _, days in PERIODS]
    records, rows = repo.transfer_counts(session, operator.id, starts)
    out = []
    for i, (key, _) in enumerate(PERIODS):
        allowed: Counter = Counter()
        refused: Counter = Counter()
        for category, outcome, counts in rows:
            if counts[i]:
                (allowed if outcome == "allowed" else refused)[category] += counts[i]
        out.append(PeriodStats(key, starts[i], records[i], allowed, refused))
    keys = {k for p in out for k in (*p.allowed, *p.refused)}
    return out, names_for(session, categories=keys)
