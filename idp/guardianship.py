"""Ages and legal representation: who may act for a minor, judged on the Moscow date.

Consent and biometrics ask here who represents whom *today*: ``guardians_of`` and
``children_of`` count only current guardianships of minors (representation ends at 18, ГК РФ
ст. 21, 26, 28, whatever guardianship row is still on file until the parent's next ESIA login).
The guardianships themselves are written at login (``idp.login``) from ESIA's list of the
parent's children.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from idp import repository as repo
from idp.identity import get_person
from idp.models import Person
from propusk.db import utcnow

MOSCOW = ZoneInfo("Europe/Moscow")


def local_date(at: datetime | None = None) -> date:
    """The Moscow date of ``at`` (now): ages and representation are judged on it."""
    return (at or utcnow()).astimezone(MOSCOW).date()


def age_group(person: Person, on: date | None = None) -> str:
    """``under14``, ``14to17`` or ``adult``; unknown birth date counts as adult."""
    if person.birth_date is None:
        return "adult"
    on = on or local_date()
    b = person.birth_date
    years = on.year - b.year - ((on.month, on.day) < (b.month, b.day))
    if years < 14:
        return "under14"
    return "14to17" if years < 18 else "adult"


def guardians_of(session: Session, child_id: uuid.UUID, on: date | None = None) -> list[Person]:
    """The child's legal representatives on ``on`` (Moscow today): the current guardianships
    while the child is a minor. Representation ends at 18 (ГК РФ ст. 21, 26, 28), whatever
    guardianship row is still on file until the parent's next ESIA login."""
    child = get_person(session, child_id)
    if child is None or age_group(child, on) == "adult":
        return []
    return repo.guardians_of(session, child_id)


def children_of(session: Session, guardian_id: uuid.UUID, on: date | None = None) -> list[Person]:
    """The minors ``guardian_id`` represents on ``on`` (Moscow today)."""
    return [c for c in repo.children_of(session, guardian_id) if age_group(c, on) != "adult"]


def owner_resource(session: Session, person_id: uuid.UUID) -> dict[str, Any]:
    """The attributes the policy's owner/guardian conditions look at for a person's data:
    the person and their legal representatives today (``guardians_of``)."""
    return {
        "subject": f"person:{person_id}",
        "guardians": [f"person:{g.id}" for g in guardians_of(session, person_id)],
    }


def guardianship_source(
    session: Session, guardian_id: uuid.UUID, child_id: uuid.UUID
) -> str | None:
    """Where the current guardianship comes from (``esia``: ESIA's list of the parent's
    children), the basis of representation a signed consent names."""
    for link in repo.guardianships_of(session, guardian_id):
        if link.child_id == child_id and link.valid_to is None:
            return link.source
    return None


def guardianship_children(session: Session, guardian_id: uuid.UUID) -> list[Person]:
    """Every child of a current guardianship on file, of age or not (to tell a former
    representative why they may no longer act; never to grant anything)."""
    return repo.children_of(session, guardian_id)
