"""Adversaries of the school admin's console (issue 15), over HTTP, for every route.

School A's console is asked by: school B's admin (who may also hold a preview token of his own
school and apply it to A, or apply A's token to B), A's teacher (who reads the profile and the
statuses and nothing else), A's student and parent, a relying party holding A's admin's own
token (delegated, never the roster), an anonymous visitor; and over a real server with the ESIA
simulator, a page on another site posting with the admin's login cookie but no CSRF token.
Every refusal is a problem+json and leaves the roster, statuses and appointments as they were.
"""

from __future__ import annotations

import uuid
from contextlib import closing

import pytest

from tests.browsing import cabinet, origin_of
from tests.idp.helpers import as_person
from tests.idp.school_world import (
    console_client,
    csv_bytes,
    lived_in_school,
    person_row,
    relying_party,
)

XLSX_OR_CSV = {"content-type": "text/csv"}


@pytest.fixture
def api(app):
    yield from console_client(app)


@pytest.fixture
def schools(api, runtime):
    return lived_in_school(api, runtime), lived_in_school(api, runtime)


def _routes(a, entry_id, status_id, token) -> dict[str, tuple[str, str, dict]]:
    """Every console route of school ``a``: name → (method, path, request keywords)."""
    body = {"content": csv_bytes([["учитель", "Взломов", "Иван", "", "01.01.1980", "", ""]])}
    upload = {**body, "headers": XLSX_OR_CSV}
    return {
        "profile": ("GET", f"{a.base}/profile", {}),
        "edit profile": ("PATCH", a.base, {"json": {"short_name": "Захвачено"}}),
        "roster": ("GET", f"{a.base}/roster", {}),
        "import": ("POST", f"{a.base}/roster", upload),
        "preview": ("POST", f"{a.base}/roster/preview", upload),
        "apply": ("POST", f"{a.base}/roster/apply", {**upload, "params": {"token": token}}),
        "people": ("GET", f"{a.base}/people", {}),
        "export": ("GET", f"{a.base}/people.csv", {}),
        "statuses": ("GET", f"{a.base}/statuses", {}),
        "appoint": ("POST", f"{a.base}/proctors", {"json": {"person_id": str(a.teacher)}}),
        "appoint from roster": ("POST", f"{a.base}/roster/{entry_id}/proctor", {}),
        "cancel waiting": ("DELETE", f"{a.base}/roster/{entry_id}/proctor", {}),
        "end status": ("DELETE", f"{a.base}/statuses/{status_id}", {}),
    }


def _state(api, a) -> tuple:
    admin = as_person(a.admin)
    return (
        api.get(f"{a.base}/roster", headers=admin).json(),
        api.get(f"{a.base}/statuses", headers=admin).json(),
        api.get(f"{a.base}/people", headers=admin).json(),
        api.get(f"{a.base}/profile", headers=admin).json(),
    )


def _setup(api, a):
    """A waiting appointment and an active proctor in school A, and A's own preview token."""
    waiting = person_row(api, a, a.waiting_teacher[0])
    url = f"{a.base}/roster/{waiting['roster_entry_id']}/proctor"
    assert api.post(url, headers=as_person(a.admin)).status_code == 201
    r = api.post(
        f"{a.base}/proctors", json={"person_id": str(a.teacher)}, headers=as_person(a.admin)
    )
    assert r.status_code == 201, r.text
    preview = api.post(
        f"{a.base}/roster/preview", content=a.roster, headers={**as_person(a.admin), **XLSX_OR_CSV}
    ).json()
    return waiting["roster_entry_id"], r.json()["id"], preview["token"]


def _refused(r, statuses, name):
    assert r.status_code in statuses, (name, r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/problem+json"), name


READ_BY_MEMBERS = {"profile"}  # school read: every member of the school
READ_BY_TEACHERS = {"profile", "statuses"}  # status read: the school's teachers too


@pytest.mark.parametrize("who", ["other admin", "teacher", "student", "parent", "relying party"])
def test_no_one_but_the_schools_admin_uses_the_console(api, schools, who):
    a, b = schools
    entry_id, status_id, token = _setup(api, a)
    headers, allowed = {
        "other admin": (as_person(b.admin), set()),
        "teacher": (as_person(a.teacher), READ_BY_TEACHERS),
        "student": (as_person(a.student), READ_BY_MEMBERS),
        "parent": (as_person(a.parent), READ_BY_MEMBERS),
        # the admin's own token in a relying party's hands: the roster is never delegated
        "relying party": (relying_party(a.admin), set()),
    }[who]
    before = _state(api, a)
    for name, (method, path, kw) in _routes(a, entry_id, status_id, token).items():
        extra = kw.pop("headers", {})
        r = api.request(method, path, headers={**headers, **extra}, **kw)
        if name in allowed:
            assert r.status_code == 200, (name, r.text)
        else:
            _refused(r, (403,), name)
            assert "Взломов" not in r.text and a.waiting_teacher[0] not in r.text
    assert _state(api, a) == before


def test_an_anonymous_visitor_is_asked_to_log_in_and_learns_nothing(api, schools):
    a, _ = schools
    entry_id, status_id, token = _setup(api, a)
    before = _state(api, a)
    for name, (method, path, kw) in _routes(a, entry_id, status_id, token).items():
        r = api.request(method, path, **kw)
        _refused(r, (401,), name)
        assert a.teacher_name[0] not in r.text
    assert _state(api, a) == before


def test_another_schools_admin_cannot_carry_previews_or_rows_across(api, schools):
    """B's admin holds a valid preview of his own school: applied to A it is refused (403, A
    is not his); A's token applied to B by him is refused (409, bound to A and A's admin);
    A's roster rows named under B's path are not found there."""
    a, b = schools
    entry_id, _, token_a = _setup(api, a)
    own = api.post(
        f"{b.base}/roster/preview", content=a.roster, headers={**as_person(b.admin), **XLSX_OR_CSV}
    ).json()["token"]
    before_a, before_b = _state(api, a), _state(api, b)
    headers = {**as_person(b.admin), **XLSX_OR_CSV}
    r = api.post(f"{a.base}/roster/apply", content=a.roster, params={"token": own}, headers=headers)
    _refused(r, (403,), "B's token on A")
    r = api.post(
        f"{b.base}/roster/apply", content=a.roster, params={"token": token_a}, headers=headers
    )
    _refused(r, (409,), "A's token on B")
    for path in (f"{b.base}/roster/{entry_id}/proctor",):
        _refused(api.post(path, headers=as_person(b.admin)), (404,), "A's row under B")
        _refused(api.delete(path, headers=as_person(b.admin)), (404,), "A's row under B")
    r = api.post(
        f"{b.base}/proctors", json={"person_id": str(a.teacher)}, headers=as_person(b.admin)
    )
    _refused(r, (422,), "A's teacher as B's proctor")
    r = api.get(f"{b.base}/people", params={"q": a.teacher_name[0]}, headers=as_person(b.admin))
    assert r.status_code == 200 and r.json()["people"] == []
    assert _state(api, a) == before_a and _state(api, b) == before_b


def test_unknown_school_is_refused_before_any_lookup(api, schools):
    a, _ = schools
    missing = f"/api/v1/schools/{uuid.uuid4()}"
    for path in ("/profile", "/people", "/people.csv"):
        _refused(api.get(missing + path, headers=as_person(a.admin)), (403,), path)


# --- the real login cookie: a form on another site ------------------------------------------
DIRECTOR = "1000400001"  # chief of the demo school in ESIA /roles → its school_admin


def test_a_post_from_another_site_with_the_admins_cookie_changes_nothing(sim_server):
    url, rt = sim_server
    from idp.schools import find_school
    from propusk.db import session_scope

    with session_scope(rt.sessionmaker) as s:
        school_id = find_school(s, "1000500001", None).id
    base = f"/api/v1/schools/{school_id}"
    evil = {"Origin": "https://evil.example"}
    with closing(cabinet(url, DIRECTOR)) as browser:
        token = browser.headers.pop("X-CSRF-Token")
        browser.headers.pop("Origin")
        before = browser.get(f"{base}/people").json()
        assert before["total"] > 0
        roster = csv_bytes([["учитель", "Взломов", "Иван", "", "01.01.1980", "", ""]])
        preview = browser.post(
            f"{base}/roster/preview",
            content=roster,
            headers={"X-CSRF-Token": token, "Origin": origin_of(url), **XLSX_OR_CSV},
        )
        assert preview.status_code == 200, preview.text
        ticket = preview.json()["token"]
        teacher = next(p for p in before["people"] if "teacher" in p["roles"] and p["can_appoint"])
        answers = {
            "apply, no token": browser.post(
                f"{base}/roster/apply",
                content=roster,
                params={"token": ticket},
                headers={**evil, **XLSX_OR_CSV},
            ),
            "apply, token, foreign origin": browser.post(
                f"{base}/roster/apply",
                content=roster,
                params={"token": ticket},
                headers={**evil, "X-CSRF-Token": token, **XLSX_OR_CSV},
            ),
            "import, no token": browser.post(
                f"{base}/roster", content=roster, headers={"Origin": origin_of(url), **XLSX_OR_CSV}
            ),
            "appoint, no token": browser.post(
                f"{base}/roster/{teacher['roster_entry_id']}/proctor", headers=evil
            ),
            "edit profile, no token": browser.patch(
                base, json={"short_name": "Захвачено"}, headers=evil
            ),
            "preview, no token": browser.post(
                f"{base}/roster/preview", content=roster, headers={**evil, **XLSX_OR_CSV}
            ),
            "cancel waiting, no token": browser.delete(
                f"{base}/roster/{teacher['roster_entry_id']}/proctor", headers=evil
            ),
            "appoint by person, no token": browser.post(
                f"{base}/proctors", json={"person_id": str(uuid.uuid4())}, headers=evil
            ),
        }
        for name, r in answers.items():
            assert r.status_code == 403, (name, r.status_code, r.text[:300])
        read = browser.get(f"{base}/people.csv", headers=evil)
        assert "access-control-allow-origin" not in read.headers
        assert browser.get(f"{base}/people").json() == before
        assert browser.get(f"{base}/profile").json()["short_name"] != "Захвачено"
