"""People, schools, guardianship and statuses: the identity services other packages call.

MINIMAL version (foundation); the people/statuses work extends it without changing signatures.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.models import Guardianship, Person, Status
from idp.upstream import UpstreamIdentity
from propusk.db import utcnow


def get_person(session: Session, person_id: uuid.UUID) -> Person | None:
    return session.get(Person, person_id)


def age_group(person: Person, on: date | None = None) -> str:
    """``under14``, ``14to17`` or ``adult``; unknown birth date counts as adult."""
    if person.birth_date is None:
        return "adult"
    on = on or utcnow().date()
    b = person.birth_date
    years = on.year - b.year - ((on.month, on.day) < (b.month, b.day))
    if years < 14:
        return "under14"
    return "14to17" if years < 18 else "adult"


def guardians_of(session: Session, child_id: uuid.UUID) -> list[Person]:
    rows = session.scalars(
        select(Person)
        .join(Guardianship, Guardianship.guardian_id == Person.id)
        .where(Guardianship.child_id == child_id, Guardianship.valid_to.is_(None))
    )
    return list(rows)


def children_of(session: Session, guardian_id: uuid.UUID) -> list[Person]:
    rows = session.scalars(
        select(Person)
        .join(Guardianship, Guardianship.child_id == Person.id)
        .where(Guardianship.guardian_id == guardian_id, Guardianship.valid_to.is_(None))
    )
    return list(rows)


def active_statuses(session: Session, person_id: uuid.UUID) -> list[Status]:
    now = utcnow()
    rows = session.scalars(
        select(Status).where(
            Status.person_id == person_id,
            Status.revoked_at.is_(None),
            Status.valid_from <= now,
            (Status.valid_to.is_(None)) | (Status.valid_to > now),
        )
    )
    return list(rows)


def on_login(session: Session, identity: UpstreamIdentity) -> Person:
    """Create or refresh the person from a fresh upstream login."""
    person = session.scalar(select(Person).where(Person.esia_oid == identity.esia_oid))
    if person is None:
        person = Person(esia_oid=identity.esia_oid, last_name="", first_name="")
        session.add(person)
    person.last_name = identity.last_name
    person.first_name = identity.first_name
    person.middle_name = identity.middle_name
    person.birth_date = identity.birth_date
    person.gender = identity.gender
    person.email = identity.email
    person.phone = identity.phone
    person.trusted = identity.trusted
    person.esia_refreshed_at = utcnow()
    session.flush()
    return person


def claims_for(session: Session, person: Person, scopes: set[str]) -> dict:
    """OIDC claims for ID token and userinfo, by scope."""
    claims: dict = {"sub": str(person.id)}
    if "profile" in scopes:
        claims.update(
            family_name=person.last_name,
            given_name=person.first_name,
            middle_name=person.middle_name,
            name=" ".join(p for p in (person.last_name, person.first_name, person.middle_name) if p),
            birthdate=person.birth_date.isoformat() if person.birth_date else None,
            gender={"M": "male", "F": "female"}.get(person.gender or ""),
        )
    if "email" in scopes and person.email:
        claims.update(email=person.email, email_verified=person.trusted)
    return {k: v for k, v in claims.items() if v is not None}
