"""Registered schools and operator/supplier organisations: the domains statuses live in.

A school (``school:<id>``) is registered by a platform admin (API, CLI or the demo seed); an
operator or supplier organisation (``org:<id>``) by the consent registry or the CLI. Both are
found again by ESIA organisation oid or ОГРН when a login reports a person's organisations.
Nothing here commits; registrations are audited in the caller's transaction.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from audit import service as audit
from idp import repository as repo
from idp.models import Organization, School
from propusk.db import new_id
from propusk.errors import Conflict, NotFound, ValidationProblem
from propusk.validators import ascii_digits, ogrn_valid

SYSTEM = "system"
ORGANIZATION_KINDS = ("operator", "supplier")


def checked_ogrn(ogrn: str) -> str:
    """ОГРН (13 digits) or ОГРНИП (15 digits) with its check digit; 422 ``invalid-ogrn``."""
    ogrn = ogrn.strip()
    if not ascii_digits(ogrn) or len(ogrn) not in (13, 15):
        raise ValidationProblem("OGRN must be 13 (or 15) digits", type="invalid-ogrn")
    if not ogrn_valid(ogrn):
        raise ValidationProblem("OGRN check digit does not match", type="invalid-ogrn")
    return ogrn


# --- schools ------------------------------------------------------------------------------
def find_school(session: Session, org_oid: str | None, ogrn: str | None) -> School | None:
    """A registered school by ESIA organisation oid, else by ОГРН."""
    school = repo.school_by_org_oid(session, org_oid) if org_oid else None
    if school is None and ogrn:
        school = repo.school_by_ogrn(session, ogrn)
    return school


def register_school(
    session: Session,
    *,
    ogrn: str,
    name: str,
    org_oid: str | None = None,
    region: str | None = None,
    short_name: str | None = None,
    inn: str | None = None,
    address: str | None = None,
    actor: str = SYSTEM,
) -> School:
    """Register a school (409 if its ОГРН or ESIA org oid is taken)."""
    ogrn = checked_ogrn(ogrn)
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
        address=address,
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


def update_school(
    session: Session, school_id: uuid.UUID, *, short_name: str | None, actor: str
) -> School:
    """The school admin's edit of the profile: the short name (the rest is the registry's)."""
    school = get_school(session, school_id)
    short_name = " ".join((short_name or "").split()) or None
    if short_name and not short_name.isprintable():
        raise ValidationProblem("the short name holds control characters", type="invalid-name")
    if short_name != school.short_name:
        school.short_name = short_name
        session.add(school)
        session.flush()
        audit.record(
            session,
            "school.updated",
            actor=actor,
            subject=f"school:{school.id}",
            body={"fields": ["short_name"]},
        )
    return school


def get_school(session: Session, school_id: uuid.UUID) -> School:
    """The school, or 404 ``school-not-found``."""
    school = session.get(School, school_id)
    if school is None:
        raise NotFound("no such school", type="school-not-found")
    return school


def school_by_ogrn(session: Session, ogrn: str) -> School:
    """The school with this ОГРН, or 404 ``school-not-found``."""
    school = repo.school_by_ogrn(session, ogrn.strip())
    if school is None:
        raise NotFound("no school with this OGRN", type="school-not-found")
    return school


def list_schools(session: Session) -> list[School]:
    return repo.list_schools(session)


# --- operator and supplier organisations --------------------------------------------------
def find_organization(
    session: Session, org_oid: str | None, ogrn: str | None
) -> Organization | None:
    """A registered organisation by ESIA organisation oid, else by ОГРН."""
    org = repo.organization_by_org_oid(session, org_oid) if org_oid else None
    if org is None and ogrn:
        org = repo.organization_by_ogrn(session, ogrn)
    return org


def register_operator_org(
    session: Session,
    org_oid: str | None,
    ogrn: str,
    name: str,
    *,
    kind: str = "operator",
    inn: str | None = None,
    address: str | None = None,
    actor: str = SYSTEM,
) -> uuid.UUID:
    """Register (or find, by ОГРН) an operator/supplier organisation; returns its id.

    Employees of an operator (ESIA ``/roles``, matched by org oid or ОГРН) get
    ``operator_staff`` in ``org:<id>`` at their next login. The consent registry passes the
    legal details (ИНН, address) it checked; they complete an organisation first known from
    ESIA. People and OAuth clients of one organisation share its ``org:<id>`` domain.
    """
    if kind not in ORGANIZATION_KINDS:
        raise ValidationProblem("kind must be operator or supplier")
    ogrn = checked_ogrn(ogrn)
    org = repo.organization_by_ogrn(session, ogrn)
    if org is not None:
        if org.kind != kind:
            raise Conflict(
                f"this ОГРН is registered as a {org.kind}", type="organization-kind-differs"
            )
        if org_oid and not org.esia_org_oid:
            if repo.organization_by_org_oid(session, org_oid) is not None:
                raise Conflict("this ESIA organisation oid is registered with another OGRN")
            org.esia_org_oid = org_oid
        org.inn = inn or org.inn
        org.address = address or org.address
        return org.id
    if org_oid and repo.organization_by_org_oid(session, org_oid):
        raise Conflict("this ESIA organisation oid is registered with another OGRN")
    org = Organization(
        id=new_id(),
        esia_org_oid=org_oid or None,
        ogrn=ogrn,
        inn=inn,
        name=name,
        address=address,
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


def organizations(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, Organization]:
    """Several organisations by id, in one query (an art. 14 answer names every recipient)."""
    return {org.id: org for org in repo.organizations_by_ids(session, ids)} if ids else {}


def list_organizations(session: Session, kind: str | None = None) -> list[Organization]:
    return repo.list_organizations(session, kind)
