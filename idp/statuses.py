"""Statuses: a person's roles in a school or organisation, granted, ended and reconciled.

Statuses are derived, never typed in by hand (except proctor appointments and the CLI-only
platform admin bootstrap):

* ``school_admin`` — ESIA ``/roles``: chief or admin of a *registered* school's organisation;
* ``operator_staff`` — ESIA ``/roles``: employee of a registered operator organisation, or
  appointed by its head (``idp.org_staff``);
* ``operator_head`` — ESIA ``/roles``: chief or profile admin of a registered operator
  (the three derived at login, ``idp.login``);
* ``student``/``teacher`` — the school's roster (``idp.roster``), matched to a person by SNILS,
  else by exact full name and birth date (``idp.roster_matching``);
* ``parent`` — a current ESIA guardian (``/kids``) of a child with an active ``student`` status
  (domain: the child's school);
* ``proctor`` — appointed by a school admin, while the person is staff of the school; a
  teacher known only from the roster can be appointed before their first login (the
  appointment waits on the roster row and becomes a status when the row names them).

Each derivation is a *reconciliation* (``reconcile``): the wanted set is computed from the
source, missing statuses are granted, statuses no longer backed by it are ended (graduation,
dismissal, a role no longer reported by ESIA). Every change is audited in the caller's
transaction and the person's roles are published to the policy engine (``role_grants``).
Nothing here commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from audit import service as audit
from idp import repository as repo
from idp.identity import get_person
from idp.models import Status
from idp.schools import get_school
from policies import service as policies
from propusk.db import utcnow
from propusk.errors import Conflict, NotFound, ValidationProblem

_ROLES_BATCH = "idp.roles_batch"


# --- reading ------------------------------------------------------------------------------
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


# --- publishing roles to the policy engine ------------------------------------------------
def _publish_roles(session: Session, person_id: uuid.UUID) -> None:
    """Tell the policy engine the person's current roles (every instance reloads them).

    Inside ``roles_batch`` the people are collected and published once at its end.
    """
    batch = session.info.get(_ROLES_BATCH)
    if batch is not None:
        batch.add(person_id)
        return
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


# --- grant, end, reconcile ----------------------------------------------------------------
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
    """Grant one status from now on (audited; the roles are published unless ``publish`` is
    False, when the caller publishes once for several changes)."""
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
    """End one status now, with its reason (audited; roles published as in ``grant_status``)."""
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


# --- statuses derived from other statuses -------------------------------------------------
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
    return _grant_waiting_proctors(session, person_id, entries) or changed


def _grant_waiting_proctors(session: Session, person_id: uuid.UUID, entries: list) -> bool:
    """A teacher appointed proctor from the roster before their first login becomes one once
    their row names them (the appointing admin is the status's actor); the wait is cleared."""
    waiting = [e for e in entries if e.role == "teacher" and e.proctor_appointed_at is not None]
    if not waiting:
        return False
    proctor_of = {s.school_id for s in active_statuses(session, person_id) if s.role == "proctor"}
    for entry in waiting:
        if entry.school_id not in proctor_of:
            grant_status(
                session,
                person_id,
                "proctor",
                "appointment",
                school_id=entry.school_id,
                actor=entry.proctor_appointed_by or "system",
            )
            proctor_of.add(entry.school_id)
        entry.proctor_appointed_at = entry.proctor_appointed_by = None
        session.add(entry)
    session.flush()
    return True


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


# --- by hand: school administration and the platform admin --------------------------------
def school_statuses(
    session: Session, school_id: uuid.UUID, role: str | None = None
) -> list[Status]:
    """The school's active statuses (of one role when given); 404 for an unknown school."""
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
