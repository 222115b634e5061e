"""Roster matching: which known person a school's roster row names, or why it waits.

A roster row names a person by SNILS, else by full name and birth date. SNILS claims; a name
alone claims only when nothing speaks against it (``name_match_hold``). Matching runs at
import (``match_roster_entries``, for the whole roster in three queries) and at every login
(``match_roster``, for the person who just logged in); either way the person's ``student`` /
``teacher`` statuses then follow their roster entries (``idp.statuses.sync_roster_statuses``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from idp import repository as repo
from idp.identity import name_key
from idp.models import Person, RosterEntry
from idp.statuses import active_statuses, sync_roster_statuses
from propusk.db import utcnow

# Why a roster row that names a person only by full name and birth date does not claim them:
# a namesake born the same day is not rare in a region, and a wrong claim hands a stranger's
# school statuses (and, through them, a parent's) to the wrong person. Such rows wait for the
# school to add the SNILS (a SNILS match claims; ``review`` of the import report lists them).
HOLD_SNILS_DIFFERS = "snils_differs"
HOLD_OTHER_SCHOOL = "status_in_another_school"
HOLD_AMBIGUOUS = "ambiguous"
HOLD_MESSAGES = {
    HOLD_SNILS_DIFFERS: "у человека с такими ФИО и датой рождения в Пропуске другой СНИЛС",
    HOLD_OTHER_SCHOOL: "у человека с такими ФИО и датой рождения есть статус в другой школе; "
    "чтобы подтвердить, что это он, добавьте СНИЛС в строку",
    HOLD_AMBIGUOUS: "несколько человек с такими ФИО и датой рождения; добавьте СНИЛС в строку",
}


def name_match_hold(
    entry: RosterEntry, person: Person, schools: Iterable[uuid.UUID | None]
) -> str | None:
    """Why ``entry`` may not claim ``person`` on name + birth date alone (``HOLD_*``), or
    ``None``. ``schools``: where the person has, or is about to get, a status."""
    if entry.snils_hash and person.snils_hash and entry.snils_hash != person.snils_hash:
        return HOLD_SNILS_DIFFERS
    if any(s is not None and s != entry.school_id for s in schools):
        return HOLD_OTHER_SCHOOL
    return None


def match_roster(session: Session, person: Person, kek: bytes, *, actor: str) -> int:
    """Link pending roster entries that name this person, then sync their statuses.

    SNILS wins; a name + birth date match claims the person only if ``name_match_hold`` finds
    nothing against it — the person's current schools and those of every entry naming them
    now (two schools naming a newcomer by name alone claim neither) count — and no other
    person shares the name and birth date (as at import). Returns the number of newly linked
    entries.
    """
    key = "-"  # no birth date: SNILS only
    if person.birth_date is not None:
        key = name_key(
            kek, person.last_name, person.first_name, person.middle_name, person.birth_date
        )
    entries = (
        repo.unmatched_roster_entries(session, person.snils_hash, key)
        if person.birth_date is not None or person.snils_hash
        else []
    )
    by_snils = [e for e in entries if e.snils_hash and e.snils_hash == person.snils_hash]
    by_name = [e for e in entries if e not in by_snils]
    if by_name and _has_namesake(session, person, key, kek):
        by_name = []
    schools = {e.school_id for e in entries}
    if by_name:  # the usual login has no pending entry: no extra query then
        schools |= {s.school_id for s in active_statuses(session, person.id)}
    by_name = [e for e in by_name if name_match_hold(e, person, schools) is None]
    linked = 0
    for entry in by_snils + by_name:
        entry.person_id = person.id
        session.add(entry)
        linked += 1
    session.flush()
    sync_roster_statuses(session, person.id, actor=actor)
    return linked


def _has_namesake(session: Session, person: Person, key: str, kek: bytes) -> bool:
    """Another person with the same full name and birth date (only asked when a roster entry
    names ``person`` by name alone, which is rare: it reads everyone born that day)."""
    return any(
        p.id != person.id
        and name_key(kek, p.last_name, p.first_name, p.middle_name, p.birth_date) == key
        for p in repo.persons_born_on(session, [person.birth_date])
    )


@dataclass
class RosterMatches:
    """Fresh roster entries → the person each claims (``found``) or why it is held for the
    school's review (``held``: a ``HOLD_*`` reason)."""

    found: dict[uuid.UUID, uuid.UUID]
    held: dict[uuid.UUID, str]


def match_roster_entries(session: Session, entries: list[RosterEntry], kek: bytes) -> RosterMatches:
    """The one known person each fresh roster entry names.

    By SNILS when exactly one person has it; else by name + birth date when exactly one person
    matches and ``name_match_hold`` finds nothing against it (the person's active statuses
    count); several namesakes hold the entry too. Three queries for the whole roster.
    """
    by_snils: dict[str, list[Person]] = {}
    for p in repo.persons_by_snils_hashes(session, [e.snils_hash for e in entries if e.snils_hash]):
        by_snils.setdefault(p.snils_hash, []).append(p)
    by_key: dict[str, list[Person]] = {}
    for p in repo.persons_born_on(session, [e.birth_date for e in entries]):
        key = name_key(kek, p.last_name, p.first_name, p.middle_name, p.birth_date)
        by_key.setdefault(key, []).append(p)
    named_ids = [p.id for e in entries for p in by_key.get(e.name_key, [])]
    schools: dict[uuid.UUID, set] = {}
    for s in repo.active_statuses_of_persons(session, named_ids, utcnow()):
        schools.setdefault(s.person_id, set()).add(s.school_id)
    out = RosterMatches({}, {})
    for entry in entries:
        same = by_snils.get(entry.snils_hash, []) if entry.snils_hash else []
        if len(same) == 1:
            out.found[entry.id] = same[0].id
            continue
        named = by_key.get(entry.name_key, [])
        if len(named) > 1:
            out.held[entry.id] = HOLD_AMBIGUOUS
        elif named:
            hold = name_match_hold(entry, named[0], schools.get(named[0].id, ()))
            if hold is None:
                out.found[entry.id] = named[0].id
            else:
                out.held[entry.id] = hold
    return out
