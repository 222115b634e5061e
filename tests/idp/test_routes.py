"""People and schools API over the TestClient, with principals built from real statuses."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from fastapi.testclient import TestClient

from idp.identity import get_person_by_oid
from idp.schools import register_operator_org
from idp.statuses import grant_platform_admin
from idp.upstream import UpstreamOrgRole
from propusk.db import session_scope
from tests.idp import factories as f
from tests.idp.helpers import (
    ADMIN,
    HEAD,
    as_person,
    login_person,
    new_school,
    principal_from_headers,
    school_admin,
)


@pytest.fixture
def api(app):
    app.state.principal_resolver = principal_from_headers
    with TestClient(app, base_url="http://testserver") as c:
        yield c


def test_school_registration_needs_a_platform_admin(api):
    body = {"ogrn": f.ogrn(), "name": "Школа"}
    assert api.post("/api/v1/schools", json=body).status_code == 401
    r = api.post("/api/v1/schools", json={**body, "ogrn": "1234567890123"}, headers=ADMIN)
    assert r.status_code == 422 and r.json()["type"].endswith("/invalid-ogrn")
    assert r.headers["content-type"].startswith("application/problem+json")
    assert api.post("/api/v1/schools", json={"name": 1}, headers=ADMIN).status_code == 422
    assert api.post("/api/v1/schools", json=body, headers=ADMIN).status_code == 201
    assert api.post("/api/v1/schools", json=body, headers=ADMIN).status_code == 409


def test_school_admin_imports_roster_and_manages_statuses(api, runtime):
    school = new_school(api)
    sid = school["id"]
    admin = school_admin(runtime, school)
    teacher_last = f.name()
    kid = f.child(snils_value=f.snils())
    csv_text = (
        HEAD
        + f"teacher,{teacher_last},Анна,,1980-01-01,,\n"
        + f"student,{kid.last_name},Маша,Ивановна,{kid.birth_date.isoformat()},{kid.snils},3А\n"
    )
    headers = {**as_person(admin), "content-type": "text/csv"}
    r = api.post(f"/api/v1/schools/{sid}/roster", content=csv_text.encode(), headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["added"] == 2 and r.json()["confirmed_by"] == f"person:{admin}"
    # Same file as multipart: unchanged.
    r = api.post(
        f"/api/v1/schools/{sid}/roster",
        headers=as_person(admin),
        files={"file": ("roster.csv", csv_text.encode(), "text/csv")},
    )
    assert r.status_code == 200 and r.json()["unchanged"] == 2
    roster = api.get(f"/api/v1/schools/{sid}/roster", headers=as_person(admin)).json()
    assert sorted((e["role"], e["class"], e["has_snils"]) for e in roster) == [
        ("student", "3А", True),
        ("teacher", None, False),
    ]
    assert all("snils" not in e for e in roster)

    teacher = login_person(
        runtime,
        f.identity(
            last_name=teacher_last, first_name="Анна", middle_name=None, birth_date=roster_date()
        ),
    )
    parent = login_person(runtime, f.identity(children=(kid,)))
    statuses = api.get(f"/api/v1/schools/{sid}/statuses", headers=as_person(admin)).json()
    assert sorted(s["role"] for s in statuses) == ["parent", "school_admin", "student", "teacher"]
    # A teacher reads statuses but cannot appoint.
    assert api.get(f"/api/v1/schools/{sid}/statuses", headers=as_person(teacher)).status_code == 200
    body = {"person_id": str(teacher)}
    assert (
        api.post(
            f"/api/v1/schools/{sid}/proctors", json=body, headers=as_person(teacher)
        ).status_code
        == 403
    )
    r = api.post(f"/api/v1/schools/{sid}/proctors", json=body, headers=as_person(admin))
    assert r.status_code == 201 and r.json()["role"] == "proctor"
    proctor_id = r.json()["id"]
    r = api.post(
        f"/api/v1/schools/{sid}/proctors", json={"person_id": str(parent)}, headers=as_person(admin)
    )
    assert r.status_code == 422
    # Derived statuses cannot be ended by hand; the appointment can.
    student = next(s for s in statuses if s["role"] == "student")
    r = api.delete(f"/api/v1/schools/{sid}/statuses/{student['id']}", headers=as_person(admin))
    assert r.status_code == 409
    r = api.delete(f"/api/v1/schools/{sid}/statuses/{proctor_id}", headers=as_person(admin))
    assert r.status_code == 200 and r.json()["revoked_at"]
    r = api.delete(f"/api/v1/schools/{sid}/statuses/{proctor_id}", headers=as_person(admin))
    assert r.status_code == 404


def roster_date():
    return date(1980, 1, 1)


def test_malformed_roster_over_http(api, runtime):
    school = new_school(api)
    admin = school_admin(runtime, school)
    headers = {**as_person(admin), "content-type": "text/csv"}
    url = f"/api/v1/schools/{school['id']}/roster"
    bad = HEAD + f"student,{f.name()},Олег,,2011-13-01,,5А\nstudent,,Вера,,2011-01-01,,5А\n"
    r = api.post(url, content=bad.encode(), headers=headers)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [(e["line"], e["field"]) for e in r.json()["errors"]] == [
        (2, "birth_date"),
        (3, "last_name"),
    ]
    assert api.get(url, headers=as_person(admin)).json() == []
    r = api.post(url, content=b"\xff\xfe", headers=headers)
    assert r.status_code == 422
    r = api.post(url, json={"rows": []}, headers=as_person(admin))
    assert r.status_code == 415


def test_other_schools_admin_is_refused(api, runtime):
    school, other = new_school(api), new_school(api)
    admin = school_admin(runtime, other)
    url = f"/api/v1/schools/{school['id']}"
    assert api.get(url, headers=as_person(admin)).status_code == 403
    assert api.get(url + "/roster", headers=as_person(admin)).status_code == 403
    r = api.post(
        url + "/roster", content=b"x", headers={**as_person(admin), "content-type": "text/csv"}
    )
    assert r.status_code == 403
    assert api.get(f"/api/v1/schools/{other['id']}", headers=as_person(admin)).status_code == 200
    assert api.get(f"/api/v1/schools/{uuid.uuid4()}", headers=ADMIN).status_code == 404


def test_me_and_children(api, runtime):
    school = new_school(api)
    admin = school_admin(runtime, school)
    kid = f.child()
    csv_text = HEAD + f"student,{kid.last_name},Маша,Ивановна,{kid.birth_date.isoformat()},,3А\n"
    api.post(
        f"/api/v1/schools/{school['id']}/roster",
        content=csv_text.encode(),
        headers={**as_person(admin), "content-type": "text/csv"},
    )
    parent = login_person(runtime, f.identity(children=(kid,)))
    me = api.get("/api/v1/me", headers=as_person(parent))
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["id"] == str(parent) and body["age_group"] == "adult"
    assert [(s["role"], s["school_id"]) for s in body["statuses"]] == [("parent", school["id"])]
    assert [c["name"] for c in body["children"]] == [f"{kid.last_name} Маша Ивановна"]
    children = api.get("/api/v1/me/children", headers=as_person(parent)).json()
    assert children[0]["age_group"] == "under14"
    assert api.get("/api/v1/me").status_code == 401


def test_school_admin_cannot_register_schools_and_lists_only_own(api, runtime):
    school, other = new_school(api), new_school(api)
    admin = school_admin(runtime, school)
    body = {"ogrn": f.ogrn(), "name": "Школа " + f.name()}
    r = api.post("/api/v1/schools", json=body, headers=as_person(admin))
    assert r.status_code == 403 and r.json()["permission"] == "school:write"
    mine = api.get("/api/v1/schools", headers=as_person(admin)).json()
    assert [s["id"] for s in mine] == [school["id"]]
    everything = {s["id"] for s in api.get("/api/v1/schools", headers=ADMIN).json()}
    assert {school["id"], other["id"]} <= everything


def test_person_without_statuses_reads_own_profile(api, runtime):
    nobody = login_person(runtime, f.identity())
    me = api.get("/api/v1/me", headers=as_person(nobody))
    assert me.status_code == 200, me.text
    assert me.json()["statuses"] == [] and me.json()["children"] == []
    assert me.json()["organization_statuses"] == [] and me.json()["platform_admin"] is False
    assert api.get(f"/api/v1/schools/{uuid.uuid4()}", headers=as_person(nobody)).status_code == 403


def test_person_read_by_self_guardian_and_same_school_staff(api, runtime):
    school, other = new_school(api), new_school(api)
    admin, admin_b = school_admin(runtime, school), school_admin(runtime, other)
    kid = f.child()
    csv_text = HEAD + f"student,{kid.last_name},Маша,Ивановна,{kid.birth_date.isoformat()},,3А\n"
    api.post(
        f"/api/v1/schools/{school['id']}/roster",
        content=csv_text.encode(),
        headers={**as_person(admin), "content-type": "text/csv"},
    )
    parent = login_person(runtime, f.identity(children=(kid,)))
    stranger = login_person(runtime, f.identity())
    with session_scope(runtime.sessionmaker) as s:
        child = get_person_by_oid(s, kid.esia_oid).id
    url = f"/api/v1/persons/{child}"
    for caller in (child, parent, admin):
        r = api.get(url, headers=as_person(caller))
        assert r.status_code == 200, (caller, r.text)
        assert r.json()["statuses"][0]["class"] == "3А"
    for caller in (stranger, admin_b):
        r = api.get(url, headers=as_person(caller))
        assert r.status_code == 403 and r.json()["permission"] == "person:read"
    assert (
        api.get(f"/api/v1/persons/{uuid.uuid4()}", headers=as_person(stranger)).status_code == 403
    )


def test_operator_staff_and_the_platform_admin_see_who_they_are(api, runtime):
    """ESIA's /roles make an operator's employee its staff, and the profile says so (it said
    «Статусов нет»: only school statuses were shown); so does a platform administrator's."""
    org_oid, ogrn, name = f.oid(), f.ogrn(), "ООО «Оператор " + f.name() + "»"
    with session_scope(runtime.sessionmaker) as s:
        org_id = register_operator_org(s, org_oid, ogrn, name)
    role = UpstreamOrgRole(org_oid=org_oid, ogrn=ogrn, name=name)
    staff = login_person(runtime, f.identity(organizations=(role,)))
    me = api.get("/api/v1/me", headers=as_person(staff)).json()
    assert me["organization_statuses"] == [
        {"organization_id": str(org_id), "organization_name": name, "role": "operator_staff"}
    ]
    assert me["statuses"] == [] and me["platform_admin"] is False
    ident = f.identity()
    admin = login_person(runtime, ident)
    with session_scope(runtime.sessionmaker) as s:
        grant_platform_admin(s, ident.esia_oid, actor="test")
    me = api.get("/api/v1/me", headers=as_person(admin)).json()
    assert me["platform_admin"] is True and me["organization_statuses"] == []
