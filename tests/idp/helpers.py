"""Shared helpers of the people/schools tests: fresh schools, roster errors, a test resolver.

A module of its own so that test modules do not import one another (or a conftest) as
libraries. Every helper makes fresh identifiers: the databases are shared by a worker's tests.
"""

from __future__ import annotations

import uuid

import pytest

from idp import roster
from idp.login import on_login
from idp.models import School
from idp.schools import register_school
from idp.statuses import role_grants
from idp.upstream import UpstreamIdentity, UpstreamOrgRole
from propusk.db import session_scope
from propusk.errors import ValidationProblem
from propusk.security import ANONYMOUS, Principal, RoleGrant
from tests.idp import factories as f

HEAD = "role,last_name,first_name,middle_name,birth_date,snils,class\n"
ADMIN = {"x-test-platform-admin": "1"}


# --- in a session -------------------------------------------------------------------------
def register_test_school(session, **kw) -> School:
    """A fresh registered school (with an ESIA organisation oid)."""
    return register_school(
        session, ogrn=f.ogrn(), name="Школа " + f.name(), org_oid=f.oid(), region="77", **kw
    )


def roster_errors(session, school_id, csv_text) -> list[dict]:
    """The per-line errors of a roster import that must fail as a whole (422)."""
    with pytest.raises(ValidationProblem) as exc:
        roster.import_roster(session, school_id, csv_text, "person:admin")
    assert exc.value.status == 422 and exc.value.type == "roster-invalid"
    return exc.value.extra["errors"]


# --- over the API -------------------------------------------------------------------------
def principal_from_headers(request, session) -> Principal:
    """Test resolver: ``X-Test-Person`` names a person; roles come from their statuses."""
    if request.headers.get("x-test-platform-admin"):
        return Principal(
            kind="platform_admin",
            subject="person:platform-admin",
            roles=(RoleGrant("platform_admin", "*"),),
            channel="session",
        )
    raw = request.headers.get("x-test-person")
    if not raw:
        return ANONYMOUS
    person_id = uuid.UUID(raw)
    roles = tuple(RoleGrant(r, d) for r, d in role_grants(session, person_id))
    return Principal(
        kind="person",
        subject=f"person:{person_id}",
        person_id=person_id,
        roles=roles,
        channel="session",
    )


def as_person(person_id) -> dict:
    """Headers that make the test resolver act as this person."""
    return {"x-test-person": str(person_id)}


def new_school(api) -> dict:
    """A fresh school registered through the API by a platform admin."""
    body = {"ogrn": f.ogrn(), "name": "Школа " + f.name(), "org_oid": f.oid(), "region": "77"}
    r = api.post("/api/v1/schools", json=body, headers=ADMIN)
    assert r.status_code == 201, r.text
    return r.json()


def login_person(runtime, ident: UpstreamIdentity) -> uuid.UUID:
    """Log a person in (committed, like the login callback) and return their id."""
    with session_scope(runtime.sessionmaker) as s:
        return on_login(s, ident).id


def school_admin(runtime, school: dict) -> uuid.UUID:
    """A fresh person whom ESIA reports as the chief of ``school``: its school_admin."""
    role = UpstreamOrgRole(org_oid=school["esia_org_oid"], ogrn=None, name="", chief=True)
    return login_person(runtime, f.identity(organizations=(role,)))
