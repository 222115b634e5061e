"""People, schools, guardianship and statuses: the identity services other packages call.

Statuses are derived, never typed in by hand (except proctor appointments and the CLI-only
platform admin bootstrap):

* ``school_admin`` — ESIA ``/roles``: chief or admin of a *registered* school's organisation;
* ``operator_staff`` — ESIA ``/roles``: employee of a registered operator organisation;
* ``student``/``teacher`` — the school's roster (``idp.roster``), matched to a person by SNILS,
  else by exact full name and birth date, at import time and at every login;
* ``parent`` — a current ESIA guardian (``/kids``) of a child with an active ``student`` status
  (domain: the child's school);
* ``proctor`` — appointed by a school admin.

Each derivation is a *reconciliation*: the wanted set is computed from the source, missing
statuses are granted, statuses no longer backed by it are ended (graduation, dismissal, a role
no longer reported by ESIA). Nothing here commits; every change is audited in the caller's
transaction. The ESIA oid is kept out of tokens: ``sub`` is our person id.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit import service as audit
from idp import repository as repo
from idp.models import Guardianship, Organization, Person, RosterEntry, School, Status
from idp.upstream import UpstreamChild, UpstreamIdentity, UpstreamOrgRole
from propusk import crypto
from propusk.db import new_id, utcnow
from propusk.errors import Conflict, NotFound, ValidationProblem
from propusk.settings import Settings, get_settings
from propusk.validators import normalize_snils

SYSTEM = "system"
SCHOOL_ROLES = ("student", "parent", "teacher", "school_admin", "proctor")


# --- SNILS and name keys ------------------------------------------------------------------


def norm_name(value: str | None) -> str:
    """Names as ESIA and school records both write them: case, spacing and ё/е differ."""
    return " ".join((value or "").replace("ё", "е").replace("Ё", "Е").split()).casefold()


def name_key(
    kek: bytes, last_name: str, first_name: str, middle_name: str | None, birth_date: date
) -> str:
    """Keyed hash of the normalised full name and birth date (roster matching without SNILS)."""
    parts = (norm_name(last_name), norm_name(first_name), norm_name(middle_name))
    return crypto.lookup_hash(kek, "name", "|".join(parts) + "|" + birth_date.isoformat())


def _kek(settings: Settings | None) -> bytes:
    return (settings or get_settings()).kek_bytes


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
    person.snils_enc = crypto.encrypt(kek, digits.encode(), aad=b"snils:" + str(person.id).encode())
    person.snils_hash = lookup


def person_snils(person: Person, settings: Settings | None = None) -> str | None:
    """Decrypt a person's SNILS (for the subject-access report; never log it)."""
    if person.snils_enc is None:
        return None
    aad = b"snils:" + str(person.id).encode()
    return crypto.decrypt(_kek(settings), person.snils_enc, aad=aad).decode()


# --- people -------------------------------------------------------------------------------
def get_person(session: Session, person_id: uuid.UUID) -> Person | None:
    return session.get(Person, person_id)


def get_person_by_oid(session: Session, esia_oid: str) -> Person | None:
    return repo.person_by_oid(session, esia_oid)


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


def is_guardian_of(session: Session, guardian_id: uuid.UUID, child_id: uuid.UUID) -> bool:
    return any(c.id == child_id for c in repo.children_of(session, guardian_id))


def active_statuses(session: Session, person_id: uuid.UUID) -> list[Status]:
    return repo.active_statuses(session, person_id, utcnow())


def status_domain(status: Status) -> str:
    """The policy domain of a status: ``school:<id>``, ``org:<id>`` or ``*``."""
    if status.school_id is not None:
        return f"school:{status.school_id}"
    if status.organization_id is not None:
        return f"org:{status.organization_id}"
    return "*"


def role_grants(session: Session, person_id: uuid.UUID) -> list[tuple[str, str]]:
    """(role, domain) pairs of the person's active statuses, for the policy engine."""
    grants = {(s.role, status_domain(s)) for s in active_statuses(session, person_id)}
    return sorted(grants)


_ROLES_BATCH = "idp.roles_batch"


def _publish_roles(session: Session, person_id: uuid.UUID) -> None:
    """Tell the policy engine the person's current roles (every instance reloads them).

    Inside ``roles_batch`` the people are collected and published once at its end.
    """
    batch = session.info.get(_ROLES_BATCH)
    if batch is not None:
        batch.add(person_id)
        return
    from policies import service as policies

    policies.set_subject_roles(session, f"person:{person_id}", role_grants(session, person_id))


@contextmanager
def roles_batch(session: Session) -> Iterator[None]:
    """Publish each changed person's roles once, after a multi-status operation."""
    if _ROLES_BATCH in session.info:
        yield
        return
    session.info[_ROLES_BATCH] = pending = set()
    try:
        yield
    finally:
        del session.info[_ROLES_BATCH]
    for person_id in sorted(pending, key=str):
        _publish_roles(session, person_id)


def _upsert_reported(
    session: Session, reported: UpstreamIdentity | UpstreamChild, kek: bytes
) -> tuple[Person, bool]:
    """Upsert a person (or a child) exactly as ESIA reported them."""
    return _upsert_person(
        session,
        reported.esia_oid,
        last_name=reported.last_name,
        first_name=reported.first_name,
        middle_name=reported.middle_name,
        birth_date=reported.birth_date,
        gender=reported.gender,
        snils=reported.snils,
        kek=kek,
    )


def _upsert_person(
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
    person, _ = _upsert_person(
        session,
        esia_oid,
        last_name=last_name,
        first_name=first_name,
        middle_name=middle_name,
        birth_date=birth_date,
        gender=None,
        snils=snils,
        kek=_kek(settings),
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


# --- login --------------------------------------------------------------------------------
def on_login(
    session: Session, identity: UpstreamIdentity, *, settings: Settings | None = None
) -> Person:
    """Create or refresh the person, their children and every derived status from ESIA data.

    Runs in the caller's transaction: a login that fails later changes nothing.
    """
    kek = _kek(settings)
    person, created = _upsert_reported(session, identity, kek)
    person.email = identity.email
    person.phone = identity.phone
    person.trusted = identity.trusted
    person.esia_refreshed_at = utcnow()
    session.flush()
    actor = f"person:{person.id}"

    with roles_batch(session):
        children = _sync_children(session, person, identity.children, kek, actor)
        for someone in (person, *children):
            match_roster(session, someone, kek, actor=actor)
        _sync_org_statuses(session, person, identity.organizations, actor)
        sync_parent_statuses(session, person.id, actor=actor)
    audit.record(
        session,
        "login.refresh",
        actor=actor,
        subject=actor,
        body={
            "created": created,
            "children": len(children),
            "organizations": len(identity.organizations),
            "auth_method": identity.auth_method,
        },
    )
    session.flush()
    return person


def _sync_children(
    session: Session,
    guardian: Person,
    reported: Iterable[UpstreamChild],
    kek: bytes,
    actor: str,
) -> list[Person]:
    """Upsert reported children and make the guardianships exactly what ESIA reports."""
    now = utcnow()
    links = {g.child_id: g for g in repo.guardianships_of(session, guardian.id)}
    children: list[Person] = []
    unique = {k.esia_oid: k for k in reported if k.esia_oid and k.esia_oid != guardian.esia_oid}
    for kid in unique.values():
        child, _ = _upsert_reported(session, kid, kek)
        session.flush()
        children.append(child)
        link = links.pop(child.id, None)
        if link is None:
            session.add(Guardianship(guardian_id=guardian.id, child_id=child.id, source="esia"))
            _audit_guardianship(session, "guardianship.added", actor, guardian, child)
        elif link.valid_to is not None:
            link.valid_to, link.valid_from = None, now
            _audit_guardianship(session, "guardianship.added", actor, guardian, child)
    for link in links.values():
        if link.valid_to is None and link.source == "esia":
            link.valid_to = now
            session.add(link)
            audit.record(
                session,
                "guardianship.ended",
                actor=actor,
                subject=f"person:{guardian.id}",
                body={"child": f"person:{link.child_id}"},
            )
    session.flush()
    return children


def _audit_guardianship(
    session: Session, event: str, actor: str, guardian: Person, child: Person
) -> None:
    audit.record(
        session,
        event,
        actor=actor,
        subject=f"person:{guardian.id}",
        body={"child": f"person:{child.id}", "source": "esia"},
    )


# --- status reconciliation ----------------------------------------------------------------
@dataclass(frozen=True)
class Wanted:
    """One status a source says the person should have."""

    school_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    class_name: str | None = None

    @property
    def key(self) -> tuple[uuid.UUID | None, uuid.UUID | None]:
        return (self.school_id, self.organization_id)


def reconcile(
    session: Session,
    person_id: uuid.UUID,
    role: str,
    source: str,
    wanted: Iterable[Wanted],
    *,
    actor: str,
    end_reason: str,
    statuses: list[Status] | None = None,
) -> bool:
    """Make the person's active (role, source) statuses equal ``wanted``; True if changed.

    ``statuses``: the person's active statuses when the caller already has them (one query
    for several roles).
    """
    want = {w.key: w for w in wanted}
    if statuses is None:
        statuses = active_statuses(session, person_id)
    current = [s for s in statuses if s.role == role and s.source == source]
    changed = False
    seen: set = set()
    for status in current:
        key = (status.school_id, status.organization_id)
        if key not in want or key in seen:
            end_status(session, status, actor=actor, reason=end_reason, publish=False)
            changed = True
            continue
        seen.add(key)
        if status.class_name != want[key].class_name:
            status.class_name = want[key].class_name
            session.add(status)
            changed = True
    for key, w in want.items():
        if key not in seen:
            grant_status(
                session,
                person_id,
                role,
                source,
                school_id=w.school_id,
                organization_id=w.organization_id,
                class_name=w.class_name,
                actor=actor,
                publish=False,
            )
            changed = True
    if changed:
        session.flush()
        _publish_roles(session, person_id)
    return changed


def grant_status(
    session: Session,
    person_id: uuid.UUID,
    role: str,
    source: str,
    *,
    school_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    class_name: str | None = None,
    actor: str,
    publish: bool = True,
) -> Status:
    status = Status(
        person_id=person_id,
        school_id=school_id,
        organization_id=organization_id,
        role=role,
        class_name=class_name,
        source=source,
        valid_from=utcnow(),
        created_by=actor[:80],
    )
    session.add(status)
    session.flush()
    audit.record(
        session,
        "status.granted",
        actor=actor,
        subject=f"person:{person_id}",
        body={
            "status": str(status.id),
            "role": role,
            "source": source,
            "domain": status_domain(status),
        },  # no names or classes: the log is append-only, keep personal data out of it
    )
    if publish:
        _publish_roles(session, person_id)
    return status


def end_status(
    session: Session, status: Status, *, actor: str, reason: str, publish: bool = True
) -> Status:
    status.revoked_at = utcnow()
    status.end_reason = reason[:64]
    session.add(status)
    session.flush()
    audit.record(
        session,
        "status.ended",
        actor=actor,
        subject=f"person:{status.person_id}",
        body={
            "status": str(status.id),
            "role": status.role,
            "source": status.source,
            "domain": status_domain(status),
            "reason": reason,
        },
    )
    if publish:
        _publish_roles(session, status.person_id)
    return status


def _sync_org_statuses(
    session: Session, person: Person, orgs: Iterable[UpstreamOrgRole], actor: str
) -> None:
    """``school_admin`` and ``operator_staff`` exactly as the fresh ESIA ``/roles`` say."""
    admin_of: list[Wanted] = []
    staff_of: list[Wanted] = []
    for org in orgs:
        if not org.active:
            continue
        school = find_school(session, org.org_oid, org.ogrn)
        if school is not None and (org.chief or org.admin):
            admin_of.append(Wanted(school_id=school.id))
        operator = find_organization(session, org.org_oid, org.ogrn)
        if operator is not None and operator.kind == "operator":
            staff_of.append(Wanted(organization_id=operator.id))
    reason = "no longer reported by ESIA"
    statuses = active_statuses(session, person.id)
    admin_changed = reconcile(
        session,
        person.id,
        "school_admin",
        "esia",
        admin_of,
        actor=actor,
        end_reason=reason,
        statuses=statuses,
    )
    reconcile(
        session,
        person.id,
        "operator_staff",
        "esia",
        staff_of,
        actor=actor,
        end_reason=reason,
        statuses=statuses,
    )
    if admin_changed:
        end_unbacked_proctors(session, person.id, actor=actor)


def sync_parent_statuses(session: Session, guardian_id: uuid.UUID, *, actor: str) -> bool:
    """``parent`` in each school where one of the guardian's current children is a student."""
    children = repo.children_of(session, guardian_id)
    students = repo.active_statuses_of_persons(
        session, [c.id for c in children], utcnow(), role="student"
    )
    wanted = {Wanted(school_id=s.school_id) for s in students if s.school_id is not None}
    return reconcile(
        session,
        guardian_id,
        "parent",
        "derived",
        wanted,
        actor=actor,
        end_reason="no child is a student of the school",
    )


def sync_roster_statuses(session: Session, person_id: uuid.UUID, *, actor: str) -> bool:
    """``student``/``teacher`` statuses exactly as the person's active roster entries say;
    then the parent statuses of the person's guardians follow."""
    entries = repo.roster_entries_of_person(session, person_id)
    statuses = active_statuses(session, person_id)
    changed = False
    for role in ("student", "teacher"):
        wanted = [
            Wanted(school_id=e.school_id, class_name=e.class_name)
            for e in entries
            if e.role == role
        ]
        changed |= reconcile(
            session,
            person_id,
            role,
            "roster",
            wanted,
            actor=actor,
            end_reason="removed from the school roster",
            statuses=statuses,
        )
    if changed:
        end_unbacked_proctors(session, person_id, actor=actor)
        for guardian in repo.guardians_of(session, person_id):
            sync_parent_statuses(session, guardian.id, actor=actor)
    return changed


def end_unbacked_proctors(session: Session, person_id: uuid.UUID, *, actor: str) -> bool:
    """A proctor appointment lasts while the person is a teacher or admin of that school."""
    statuses = active_statuses(session, person_id)
    staff_of = {s.school_id for s in statuses if s.role in ("teacher", "school_admin")}
    wanted = [
        Wanted(school_id=s.school_id)
        for s in statuses
        if s.role == "proctor" and s.source == "appointment" and s.school_id in staff_of
    ]
    return reconcile(
        session,
        person_id,
        "proctor",
        "appointment",
        wanted,
        actor=actor,
        end_reason="no longer staff of the school",
        statuses=statuses,
    )


# Why a roster row that names a person only by full name and birth date does not claim them:
# a namesake born the same day is not rare in a region, and a wrong claim hands a stranger's
# school statuses (and, through them, a parent's) to the wrong person. Such rows wait for the
# school to add the SNILS (a SNILS match claims; ``review`` of the import report lists them).
HOLD_SNILS_DIFFERS = "snils_differs"
HOLD_OTHER_SCHOOL = "status_in_another_school"
HOLD_AMBIGUOUS = "ambiguous"
HOLD_MESSAGES = {
    HOLD_SNILS_DIFFERS: "the person with this name and birth date has another SNILS on file",
    HOLD_OTHER_SCHOOL: "the person with this name and birth date has a status in another "
    "school; add the SNILS to the row to confirm",
    HOLD_AMBIGUOUS: "several people have this name and birth date; add the SNILS to the row",
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


# --- schools and organisations ------------------------------------------------------------
def find_school(session: Session, org_oid: str | None, ogrn: str | None) -> School | None:
    """A registered school by ESIA organisation oid, else by ОГРН."""
    school = repo.school_by_org_oid(session, org_oid) if org_oid else None
    if school is None and ogrn:
        school = repo.school_by_ogrn(session, ogrn)
    return school


def find_organization(
    session: Session, org_oid: str | None, ogrn: str | None
) -> Organization | None:
    org = repo.organization_by_org_oid(session, org_oid) if org_oid else None
    if org is None and ogrn:
        org = repo.organization_by_ogrn(session, ogrn)
    return org


def validate_ogrn(ogrn: str) -> str:
    """ОГРН (13 digits) or ОГРНИП (15 digits) with its check digit; ValueError otherwise."""
    ogrn = ogrn.strip()
    if not ogrn.isdigit() or len(ogrn) not in (13, 15):
        raise ValueError("OGRN must be 13 (or 15) digits")
    body, check = int(ogrn[:-1]), int(ogrn[-1])
    if (body % (11 if len(ogrn) == 13 else 13)) % 10 != check:
        raise ValueError("OGRN check digit does not match")
    return ogrn


def register_school(
    session: Session,
    *,
    ogrn: str,
    name: str,
    org_oid: str | None = None,
    region: str | None = None,
    short_name: str | None = None,
    inn: str | None = None,
    actor: str = SYSTEM,
) -> School:
    """Register a school (409 if its ОГРН or ESIA org oid is taken)."""
    try:
        ogrn = validate_ogrn(ogrn)
    except ValueError as exc:
        raise ValidationProblem(str(exc), type="invalid-ogrn") from exc
    if not name.strip():
        raise ValidationProblem("school name is empty")
    if repo.school_by_ogrn(session, ogrn) or (org_oid and repo.school_by_org_oid(session, org_oid)):
        raise Conflict(
            "a school with this OGRN or ESIA organisation oid is registered", type="school-exists"
        )
    school = School(
        ogrn=ogrn,
        name=name.strip(),
        esia_org_oid=org_oid or None,
        region=region,
        short_name=short_name,
        inn=inn,
    )
    session.add(school)
    session.flush()
    audit.record(
        session,
        "school.registered",
        actor=actor,
        subject=f"school:{school.id}",
        body={"ogrn": ogrn, "name": school.name},
    )
    return school


def get_school(session: Session, school_id: uuid.UUID) -> School:
    school = session.get(School, school_id)
    if school is None:
        raise NotFound("no such school", type="school-not-found")
    return school


def school_by_ogrn(session: Session, ogrn: str) -> School:
    school = repo.school_by_ogrn(session, ogrn.strip())
    if school is None:
        raise NotFound("no school with this OGRN", type="school-not-found")
    return school


def list_schools(session: Session) -> list[School]:
    return repo.list_schools(session)


def register_operator_org(
    session: Session,
    org_oid: str | None,
    ogrn: str,
    name: str,
    *,
    kind: str = "operator",
    organization_id: uuid.UUID | None = None,
    actor: str = SYSTEM,
) -> uuid.UUID:
    """Register (or find, by ОГРН) an operator/supplier organisation; returns its id.

    Employees of an operator (ESIA ``/roles``, matched by org oid or ОГРН) get
    ``operator_staff`` in ``org:<id>`` at their next login. The consent registry passes its own
    ``organization_id`` so people and OAuth clients of one organisation share one domain.
    """
    if kind not in ("operator", "supplier"):
        raise ValidationProblem("kind must be operator or supplier")
    try:
        ogrn = validate_ogrn(ogrn)
    except ValueError as exc:
        raise ValidationProblem(str(exc), type="invalid-ogrn") from exc
    org = repo.organization_by_ogrn(session, ogrn)
    if org is not None:
        if organization_id is not None and org.id != organization_id:
            raise Conflict("this ОГРН is registered under another organisation id")
        if org_oid and not org.esia_org_oid:
            org.esia_org_oid = org_oid
        return org.id
    if org_oid and repo.organization_by_org_oid(session, org_oid):
        raise Conflict("this ESIA organisation oid is registered with another OGRN")
    org = Organization(
        id=organization_id or new_id(),
        esia_org_oid=org_oid or None,
        ogrn=ogrn,
        name=name,
        kind=kind,
    )
    session.add(org)
    session.flush()
    audit.record(
        session,
        "organization.registered",
        actor=actor,
        subject=f"org:{org.id}",
        body={"ogrn": ogrn, "kind": kind},
    )
    return org.id


def get_organization(session: Session, organization_id: uuid.UUID) -> Organization | None:
    return session.get(Organization, organization_id)


def list_organizations(session: Session, kind: str | None = None) -> list[Organization]:
    return repo.list_organizations(session, kind)


# --- school administration ----------------------------------------------------------------
def school_statuses(
    session: Session, school_id: uuid.UUID, role: str | None = None
) -> list[Status]:
    get_school(session, school_id)
    return repo.school_statuses(session, school_id, utcnow(), role)


def appoint_proctor(
    session: Session, school_id: uuid.UUID, person_id: uuid.UUID, *, actor: str
) -> Status:
    """A school admin appoints a proctor: the person must be a teacher or admin of the school."""
    get_school(session, school_id)
    person = get_person(session, person_id)
    if person is None:
        raise NotFound("no such person", type="person-not-found")
    roles = {s.role for s in active_statuses(session, person_id) if s.school_id == school_id}
    if "proctor" in roles:
        raise Conflict("already a proctor of this school", type="status-exists")
    if not roles & {"teacher", "school_admin"}:
        raise ValidationProblem(
            "a proctor must be a teacher or an admin of the school", type="not-school-staff"
        )
    return grant_status(
        session, person_id, "proctor", "appointment", school_id=school_id, actor=actor
    )


def end_school_status(
    session: Session, school_id: uuid.UUID, status_id: uuid.UUID, *, actor: str
) -> Status:
    """End a status of the school; derived ones (ESIA, roster) change only at their source."""
    status = repo.get_status(session, status_id)
    if status is None or status.school_id != school_id or status.revoked_at is not None:
        raise NotFound("no such active status in this school", type="status-not-found")
    if status.source not in ("appointment", "admin"):
        raise Conflict(
            f"a {status.source} status ends at its source (roster or ESIA), not by hand",
            type="status-derived",
        )
    return end_status(session, status, actor=actor, reason="ended by school admin")


def grant_platform_admin(session: Session, esia_oid: str, *, actor: str = "cli") -> Status:
    """CLI-only bootstrap: make a person (who has logged in once) a platform admin."""
    person = repo.person_by_oid(session, esia_oid)
    if person is None:
        raise NotFound("no person with this ESIA oid has logged in yet", type="person-not-found")
    for status in active_statuses(session, person.id):
        if status.role == "platform_admin":
            return status
    return grant_status(session, person.id, "platform_admin", "admin", actor=actor)


# --- views and claims ---------------------------------------------------------------------
def describe_statuses(session: Session, statuses: list[Status]) -> list[dict[str, Any]]:
    """The ``school_statuses`` shape: school id, name, ОГРН, role and class where known."""
    schools = repo.schools_by_ids(session, [s.school_id for s in statuses if s.school_id])
    out = []
    for s in statuses:
        school = schools.get(s.school_id) if s.school_id else None
        if school is None:
            continue
        item = {
            "school_id": str(school.id),
            "school_name": school.name,
            "ogrn": school.ogrn,
            "role": s.role,
        }
        if s.class_name:
            item["class"] = s.class_name
        out.append(item)
    return sorted(out, key=lambda i: (i["school_name"], i["role"]))


def claims_for(session: Session, person: Person, scopes: set[str]) -> dict:
    """OIDC claims for ID token and userinfo, by scope.

    ``profile``: names, birthdate, gender, ``age_group`` and ``school_statuses``;
    ``school``: ``school_statuses``; ``children``: the minors the person represents (sub, name,
    age_group) — only with that scope, which the person allowed on the consent screen.
    The ESIA oid and SNILS never appear in tokens.
    """
    claims: dict = {"sub": str(person.id)}
    if "profile" in scopes:
        claims.update(
            family_name=person.last_name,
            given_name=person.first_name,
            middle_name=person.middle_name,
            name=full_name(person),
            birthdate=person.birth_date.isoformat() if person.birth_date else None,
            gender={"M": "male", "F": "female"}.get(person.gender or ""),
            age_group=age_group(person),
        )
    if "profile" in scopes or "school" in scopes:
        claims["school_statuses"] = describe_statuses(session, active_statuses(session, person.id))
    if "children" in scopes:
        claims["children"] = [
            {"sub": str(c.id), "name": full_name(c), "age_group": age_group(c)}
            for c in children_of(session, person.id)
        ]
    if "email" in scopes and person.email:
        claims.update(email=person.email, email_verified=person.trusted)
    return {k: v for k, v in claims.items() if v is not None}


def full_name(person: Person) -> str:
    return " ".join(p for p in (person.last_name, person.first_name, person.middle_name) if p)


def get_people(session: Session, ids: Iterable[uuid.UUID]) -> list[Person]:
    return repo.persons_by_ids(session, ids)
