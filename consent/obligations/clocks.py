"""The deadline clocks of an obligation: started with it, met by a resolution, extended once.

A clock is a due instant (``ObligationClock.due_at``) and, for day-granular periods, the due
date: working days on the production calendar of ``consent.deadlines`` (a period is missed at
the end of its last Moscow day), calendar months (art. 21 part 6) or hours from detection (an
incident). A clock is overdue when it is unmet and its instant has passed.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from consent import deadlines
from consent.models import Obligation, ObligationClock
from consent.obligations import repository as orepo
from propusk.errors import Conflict

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


def end_of_day(day: date) -> datetime:
    """The instant a day-granular deadline is missed: the end of that Moscow day."""
    return datetime.combine(day + timedelta(days=1), time(0), deadlines.MOSCOW)


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later (clamped to the month's last day)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def working_days(name: str, received_at: datetime, n: int) -> ObligationClock:
    """A clock of ``n`` working days from the receipt date."""
    due = deadlines.add_working_days(deadlines.receipt_date(received_at), n)
    return ObligationClock(name=name, due_date=due, due_at=end_of_day(due), extended=False)


def hours(name: str, detected_at: datetime, delta: timedelta) -> ObligationClock:
    """A clock of ``delta`` from the instant of detection."""
    return ObligationClock(name=name, due_date=None, due_at=detected_at + delta, extended=False)


def months(name: str, received_at: datetime, count: int) -> ObligationClock:
    """A clock of ``count`` calendar months from the receipt date."""
    due = add_months(deadlines.receipt_date(received_at), count)
    return ObligationClock(name=name, due_date=due, due_at=end_of_day(due), extended=False)


def clock(session: Session, obligation: Obligation, name: str) -> ObligationClock:
    """The obligation's clock called ``name``."""
    return next(c for c in orepo.clocks(session, obligation.id) if c.name == name)


def meet(session: Session, obligation: Obligation, names: tuple[str, ...], now: datetime) -> None:
    """Mark the named clocks met now (those already met keep their time)."""
    for c in orepo.clocks(session, obligation.id):
        if c.name in names and c.met_at is None:
            c.met_at = now
    session.flush()


def extend(session: Session, obligation: Obligation, name: str, now: datetime) -> tuple[date, date]:
    """+5 WD once, and only while the original period runs; the old and the new due date."""
    c = clock(session, obligation, name)
    if c.extended:
        raise Conflict("the period was already extended once", type="already-extended")
    if now >= c.due_at:
        raise Conflict("the period has already passed", type="period-passed")
    old = c.due_date
    c.due_date = deadlines.add_working_days(old, EXTENSION_WD)
    c.due_at = end_of_day(c.due_date)
    c.extended = True
    return old, c.due_date
