"""Persons: lookup, creation, names, and how SNILS and name keys are stored.

The base of the identity services: every other ``idp`` module that needs a person reads it
here. A person is known by their ESIA oid; ``sub`` in tokens is our person id. SNILS is kept
encrypted and bound to the row, with a keyed lookup hash for roster matching (its check digits
live in ``propusk.validators``); full name + birth date give a second keyed lookup, the
``name_key``, for roster rows without SNILS. Nothing here commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idp import repository as repo
from idp.models import Person
from propusk import crypto
from propusk.db import new_id
from propusk.settings import Settings, get_settings
from propusk.validators import normalize_snils


# --- SNILS and name keys ------------------------------------------------------------------
def kek_of(settings: Settings | None) -> bytes:
    """The key-encryption key of ``settings`` (the configured settings when ``None``)."""
    return (settings or get_settings()).kek_bytes


def norm_name(value: str | None) -> str:
    """Names as ESIA and school records both write them: case, spacing and ё/е differ."""
    return " ".join((value or "").replace("ё", "е").replace("Ё", "Е").split()).casefold()


def name_key(
    kek: bytes, last_name: str, first_name: str, middle_name: str | None, birth_date: date
) -> str:
    """Keyed hash of the normalised full name and birth date (roster matching without SNILS)."""
    parts = (norm_name(last_name), norm_name(first_name), norm_name(middle_name))
    return crypto.lookup_hash(kek, "name", "|".join(parts) + "|" + birth_date.isoformat())


def _snils_aad(person: Person) -> bytes:
    return b"snils:" + str(person.id).encode()


def set_person_snils(person: Person, snils: str | None, kek: bytes) -> None:
    """Store SNILS encrypted (bound to the row) with its lookup hash; invalid values are dropped."""
    if not snils:
        return
    try:
        digits = normalize_snils(snils)
    except ValueError:
        return  # ESIA data we cannot use for matching; never stored half-valid
    lookup = crypto.lookup_hash(kek, "snils", digits)
    if person.snils_hash == lookup and person.snils_enc is not None:
        return  # unchanged: no rewrite on every login
    person.snils_enc = crypto.encrypt(kek, digits.encode(), aad=_snils_aad(person))
    person.snils_hash = lookup


def person_snils(person: Person, settings: Settings | None = None) -> str | None:
    """Decrypt a person's SNILS (for the subject-access report; never log it)."""
    if person.snils_enc is None:
        return None
    return crypto.decrypt(kek_of(settings), person.snils_enc, aad=_snils_aad(person)).decode()


# --- lookup -------------------------------------------------------------------------------
def get_person(session: Session, person_id: uuid.UUID) -> Person | None:
    return session.get(Person, person_id)


def get_person_by_oid(session: Session, esia_oid: str) -> Person | None:
    return repo.person_by_oid(session, esia_oid)


def get_people(session: Session, ids: Iterable[uuid.UUID]) -> list[Person]:
    return repo.persons_by_ids(session, ids)


def full_name(person: Person) -> str:
    return " ".join(p for p in (person.last_name, person.first_name, person.middle_name) if p)


# --- creation -----------------------------------------------------------------------------
def upsert_person(
    session: Session,
    esia_oid: str,
    *,
    last_name: str,
    first_name: str,
    middle_name: str | None,
    birth_date: date | None,
    gender: str | None,
    snils: str | None,
    kek: bytes,
) -> tuple[Person, bool]:
    """Create or refresh the person with this ESIA oid; True when it was created."""
    person = repo.person_by_oid(session, esia_oid)
    created = person is None
    if person is None:
        person, created = _insert_person(session, esia_oid)
    person.last_name = last_name
    person.first_name = first_name
    person.middle_name = middle_name
    if birth_date is not None:
        person.birth_date = birth_date
    if gender is not None:
        person.gender = gender
    set_person_snils(person, snils, kek)
    return person, created


def create_person(
    session: Session,
    esia_oid: str,
    *,
    last_name: str,
    first_name: str,
    middle_name: str | None = None,
    birth_date: date | None = None,
    snils: str | None = None,
    settings: Settings | None = None,
) -> Person:
    """Pre-create a person known by ESIA oid (demo seed, admin bootstrap); login refreshes it."""
    person, _ = upsert_person(
        session,
        esia_oid,
        last_name=last_name,
        first_name=first_name,
        middle_name=middle_name,
        birth_date=birth_date,
        gender=None,
        snils=snils,
        kek=kek_of(settings),
    )
    session.flush()
    return person


def _insert_person(session: Session, esia_oid: str) -> tuple[Person, bool]:
    """Insert a new person; if a concurrent login inserted the same ESIA oid first, use that
    row (a savepoint keeps the caller's transaction alive)."""
    person = Person(id=new_id(), esia_oid=esia_oid, last_name="", first_name="")
    try:
        with session.begin_nested():
            session.add(person)
            session.flush()
    except IntegrityError:
        existing = repo.person_by_oid(session, esia_oid)
        if existing is None:
            raise
        return existing, False
    return person, True
