"""Login: turn a fresh upstream (ESIA) identity into our person, children and statuses.

Every login refreshes the person exactly as ESIA reports them, makes their guardianships what
ESIA's list of children says, matches pending roster rows naming them or their children, and
reconciles the statuses ESIA itself backs (``school_admin``, ``operator_staff`` from
``/roles``) and those that follow (``parent``). Runs in the caller's transaction: a login that
fails later changes nothing. The ESIA oid is kept out of tokens: ``sub`` is our person id.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from audit import service as audit
from idp import repository as repo
from idp.identity import kek_of, upsert_person
from idp.models import Guardianship, Person
from idp.roster_matching import match_roster
from idp.schools import find_organization, find_school
from idp.statuses import (
    Wanted,
    active_statuses,
    end_unbacked_proctors,
    reconcile,
    roles_batch,
    sync_parent_statuses,
)
from idp.upstream import UpstreamChild, UpstreamIdentity, UpstreamOrgRole
from propusk.db import utcnow
from propusk.settings import Settings


def on_login(
    session: Session, identity: UpstreamIdentity, *, settings: Settings | None = None
) -> Person:
    """Create or refresh the person, their children and every derived status from ESIA data.

    Runs in the caller's transaction: a login that fails later changes nothing.
    """
    kek = kek_of(settings)
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


def _upsert_reported(
    session: Session, reported: UpstreamIdentity | UpstreamChild, kek: bytes
) -> tuple[Person, bool]:
    """Upsert a person (or a child) exactly as ESIA reported them."""
    return upsert_person(
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


def _sync_org_statuses(
    session: Session, person: Person, orgs: Iterable[UpstreamOrgRole], actor: str
) -> None:
    """``school_admin``, ``operator_staff`` and ``operator_head`` exactly as the fresh ESIA
    ``/roles`` say (the head: the organisation's chief or the administrator of its ESIA
    profile, who appoints and ends staff by hand: ``idp.org_staff``)."""
    admin_of: list[Wanted] = []
    staff_of: list[Wanted] = []
    head_of: list[Wanted] = []
    for org in orgs:
        if not org.active:
            continue
        school = find_school(session, org.org_oid, org.ogrn)
        if school is not None and (org.chief or org.admin):
            admin_of.append(Wanted(school_id=school.id))
        operator = find_organization(session, org.org_oid, org.ogrn)
        if operator is not None and operator.kind == "operator":
            staff_of.append(Wanted(organization_id=operator.id))
            if org.chief or org.admin:
                head_of.append(Wanted(organization_id=operator.id))
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
    for role, wanted in (("operator_staff", staff_of), ("operator_head", head_of)):
        reconcile(
            session,
            person.id,
            role,
            "esia",
            wanted,
            actor=actor,
            end_reason=reason,
            statuses=statuses,
        )
    if admin_changed:
        end_unbacked_proctors(session, person.id, actor=actor)
