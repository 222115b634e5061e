"""152-FZ deadlines on the Russian production calendar (check 20 of the consent notes).

Working days come from the ``holidays`` package's Russia calendar, which knows the holidays,
the days off moved by government decree and the transferred working Saturdays
(``weekend_workdays``), e.g. Saturday 1 Nov 2025 was a working day and 9 Jan 2026 a day off.
Clocks start at *receipt*, counted in Moscow local dates.

Pure date arithmetic, imported by everything that starts a 152-FZ clock: the consent lifecycle
(30-day destruction, 10-WD stop, 3-WD dissemination), representation (the Moscow date of an
act), art. 14 requests and the obligation clocks (``consent.obligations.clocks``). It imports
nothing of the package, so it can sit under the ledger and the obligations alike.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

MOSCOW = ZoneInfo("Europe/Moscow")

ACCESS_ANSWER_WD = 10  # art. 14 part 3, art. 20 part 1
ACCESS_EXTENSION_WD = 5
STOP_PROCESSING_WD = 10  # art. 21 part 5.1
DESTROY_AFTER_WITHDRAWAL_DAYS = 30  # art. 21 part 5 (calendar days)
DISSEMINATION_WD = 3  # art. 10.1: publish the conditions / stop dissemination


@lru_cache(maxsize=1)
def _calendar() -> holidays.HolidayBase:
    """One Russia calendar; it expands to new years lazily on lookup."""
    return holidays.country_holidays("RU")


def is_working_day(day: date) -> bool:
    """True on a working day of the Russian production calendar (transfers included)."""
    return _calendar().is_working_day(day)


def add_working_days(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (``start`` itself not counted)."""
    if n < 0:
        raise ValueError("n must be non-negative")
    day = start
    left = n
    while left:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def receipt_date(at: datetime) -> date:
    """The local (Moscow) date on which something was received."""
    return at.astimezone(MOSCOW).date()


def access_answer_due(received_at: datetime) -> date:
    """Art. 14 answer: 10 working days from receipt."""
    return add_working_days(receipt_date(received_at), ACCESS_ANSWER_WD)


def destruction_due(received_at: datetime) -> date:
    """Art. 21 part 5: destroy within 30 (calendar) days of receiving the withdrawal."""
    return receipt_date(received_at) + timedelta(days=DESTROY_AFTER_WITHDRAWAL_DAYS)


def dissemination_due(received_at: datetime) -> date:
    """Art. 10.1: conditions published, or dissemination stopped, within 3 working days."""
    return add_working_days(receipt_date(received_at), DISSEMINATION_WD)
