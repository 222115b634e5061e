"""Queries over people, schools, organisations, guardianships, statuses and roster entries.

The only module of ``idp`` (outside ``idp.oidc``/``idp.esia``) that builds SQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from idp.models import Guardianship, Organization, Person, RosterEntry, School, Status


# --- people -------------------------------------------------------------------------------
def person_by_oid(session: Session, esia_oid: str) -> Person | None:
    return session.scalar(select(Person).where(Person.esia_oid == esia_oid))


def persons_by_ids(session: Session, ids: Iterable[uuid.UUID]) -> list[Person]:
    ids = list(ids)
    if not ids:
        return []
    return list(session.scalars(select(Person).where(Person.id.in_(ids))))


def persons_by_snils_hashes(session: Session, hashes: Iterable[str]) -> list[Person]:
    return _in_chunks(session, Person.snils_hash, hashes)


def persons_born_on(session: Session, dates: Iterable[date]) -> list[Person]:
    return _in_chunks(session, Person.birth_date, dates)


def _in_chunks(session: Session, column, values: Iterable, size: int = 500) -> list[Person]:
    """``WHERE column IN (...)`` in bounded chunks (bind-parameter limits, plan size)."""
    values = sorted(set(values))
    out: list[Person] = []
    for i in range(0, len(values), size):
        out.extend(session.scalars(select(Person).where(column.in_(values[i : i + size]))))
    return out


# --- schools and organisations ------------------------------------------------------------
def school_by_ogrn(session: Session, ogrn: str) -> School | None:
    return session.scalar(select(School).where(School.ogrn == ogrn))


def school_by_org_oid(session: Session, org_oid: str) -> School | None:
    return session.scalar(select(School).where(School.esia_org_oid == org_oid))


def list_schools(session: Session) -> list[School]:
    return list(session.scalars(select(School).order_by(School.name)))


def schools_by_ids(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, School]:
    ids = list(set(ids))
    if not ids:
        return {}
    return {s.id: s for s in session.scalars(select(School).where(School.id.in_(ids)))}


def organization_by_ogrn(session: Session, ogrn: str) -> Organization | None:
    return session.scalar(select(Organization).where(Organization.ogrn == ogrn))


def organization_by_org_oid(session: Session, org_oid: str) -> Organization | None:
    return session.scalar(select(Organization).where(Organization.esia_org_oid == org_oid))


def organizations_by_ids(session: Session, ids: Iterable[uuid.UUID]) -> list[Organization]:
    return list(session.scalars(select(Organization).where(Organization.id.in_(list(ids)))))


def list_organizations(session: Session, kind: str | None = None) -> list[Organization]:
    q = select(Organization).order_by(Organization.name)
    if kind:
        q = q.where(Organization.kind == kind)
    return list(session.scalars(q))


# --- guardianship -------------------------------------------------------------------------
def guardians_of(session: Session, child_id: uuid.UUID) -> list[Person]:
    return list(
        session.scalars(
            select(Person)
            .join(Guardianship, Guardianship.guardian_id == Person.id)
            .where(Guardianship.child_id == child_id, Guardianship.valid_to.is_(None))
        )
    )


def children_of(session: Session, guardian_id: uuid.UUID) -> list[Person]:
    return list(
        session.scalars(
            select(Person)
            .join(Guardianship, Guardianship.child_id == Person.id)
            .where(Guardianship.guardian_id == guardian_id, Guardianship.valid_to.is_(None))
            .order_by(Person.birth_date, Person.last_name)
        )
    )


def guardianships_of(session: Session, guardian_id: uuid.UUID) -> list[Guardianship]:
    """All links of a guardian, current and ended (so an ended link can be revived)."""
    return list(
        session.scalars(select(Guardianship).where(Guardianship.guardian_id == guardian_id))
    )


# --- statuses -----------------------------------------------------------------------------
def _active(now: datetime):
    return (
        Status.revoked_at.is_(None),
        Status.valid_from <= now,
        or_(Status.valid_to.is_(None), Status.valid_to > now),
    )


def active_statuses(session: Session, person_id: uuid.UUID, now: datetime) -> list[Status]:
    return list(
        session.scalars(
            select(Status)
            .where(Status.person_id == person_id, *_active(now))
            .order_by(Status.valid_from)
        )
    )


def active_statuses_of_persons(
    session: Session, person_ids: Iterable[uuid.UUID], now: datetime, role: str | None = None
) -> list[Status]:
    ids = list(set(person_ids))
    if not ids:
        return []
    q = select(Status).where(Status.person_id.in_(ids), *_active(now))
    if role:
        q = q.where(Status.role == role)
    return list(session.scalars(q))


def school_statuses(
    session: Session, school_id: uuid.UUID, now: datetime, role: str | None = None
) -> list[Status]:
    q = select(Status).where(Status.school_id == school_id, *_active(now))
    if role:
        q = q.where(Status.role == role)
    return list(session.scalars(q.order_by(Status.role, Status.valid_from)))


def organization_statuses(
    session: Session, organization_id: uuid.UUID, now: datetime
) -> list[Status]:
    q = select(Status).where(Status.organization_id == organization_id, *_active(now))
    return list(session.scalars(q.order_by(Status.role, Status.valid_from)))


def get_status(session: Session, status_id: uuid.UUID) -> Status | None:
    return session.get(Status, status_id)


# --- roster -------------------------------------------------------------------------------
def active_roster(session: Session, school_id: uuid.UUID) -> list[RosterEntry]:
    return list(
        session.scalars(
            select(RosterEntry)
            .where(RosterEntry.school_id == school_id, RosterEntry.ended_at.is_(None))
            .order_by(RosterEntry.role, RosterEntry.class_name, RosterEntry.last_name)
        )
    )


def roster_entry(session: Session, entry_id: uuid.UUID) -> RosterEntry | None:
    return session.get(RosterEntry, entry_id)


def roster_entries_of_person(session: Session, person_id: uuid.UUID) -> list[RosterEntry]:
    return list(
        session.scalars(
            select(RosterEntry).where(
                RosterEntry.person_id == person_id, RosterEntry.ended_at.is_(None)
            )
        )
    )


def unmatched_roster_entries(
    session: Session, snils_hash: str | None, name_key: str
) -> list[RosterEntry]:
    """Pending entries that name this person by SNILS, or by name and birth date."""
    cond = RosterEntry.name_key == name_key
    if snils_hash:
        cond = or_(cond, RosterEntry.snils_hash == snils_hash)
    return list(
        session.scalars(
            select(RosterEntry).where(
                RosterEntry.person_id.is_(None), RosterEntry.ended_at.is_(None), cond
            )
        )
    )
