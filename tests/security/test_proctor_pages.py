"""The proctor's console with the login cookie, over real HTTP (the ESIA simulator's demo
people): the pages open for the logged-in proctor and send a visitor without a login to it;
every state change of the console — adding and removing takers, a decision — is refused when
posted from another site (no CSRF token, or a foreign origin) and from another person's login
session with that person's own token; nothing changes.
"""

from __future__ import annotations

import uuid
from contextlib import closing
from datetime import timedelta

import httpx
import pytest

from idp import identity, schools, statuses
from propusk.db import session_scope, utcnow
from tests.browsing import cabinet, origin_of

TEACHER = "1000400003"  # Орлова Светлана, a teacher of school 1000500001
STUDENT = "1000400015"  # Соколова Екатерина, 11Б of the same school
OTHER = "1000400024"  # Волков Виктор, a parent with a login of his own
SCHOOL_OID = "1000500001"


@pytest.fixture
def live(sim_server):
    return sim_server


def _person(rt, oid: str) -> uuid.UUID:
    with session_scope(rt.sessionmaker) as s:
        return identity.get_person_by_oid(s, oid).id


def _proctor_with_a_session(url: str, rt) -> tuple[httpx.Client, str, uuid.UUID]:
    """The teacher appointed proctor of her school, logged in, with a session of the student."""
    cabinet(url, STUDENT).close()  # her first login makes her person row and status
    browser = cabinet(url, TEACHER)
    with session_scope(rt.sessionmaker) as s:
        school = schools.find_school(s, SCHOOL_OID, None)
        teacher = identity.get_person_by_oid(s, TEACHER).id
        if not any(x.role == "proctor" for x in statuses.active_statuses(s, teacher)):
            statuses.appoint_proctor(s, school.id, teacher, actor="test")
        school_id = school.id
    student = _person(rt, STUDENT)
    now = utcnow()
    r = browser.post(
        "/api/v1/exams/sessions",
        json={
            "school_id": str(school_id),
            "course": "История",
            "title": f"Зачёт {uuid.uuid4().hex[:6]}",
            "opens_at": (now + timedelta(hours=1)).isoformat(),
            "closes_at": (now + timedelta(hours=2)).isoformat(),
            "takers": [str(student)],
        },
    )
    assert r.status_code == 201, r.text
    return browser, r.json()["id"], student


def test_pages_open_for_the_proctor_and_send_a_visitor_to_log_in(live) -> None:
    url, rt = live
    browser, exam, _ = _proctor_with_a_session(url, rt)
    with closing(browser), closing(httpx.Client(base_url=url, timeout=30)) as anonymous:
        for path in ("/proctor", f"/exams/{exam}/proctor"):
            page = browser.get(path)
            assert page.status_code == 200 and 'name="csrf-token"' in page.text, path
            away = anonymous.get(path, follow_redirects=False)
            assert away.status_code == 302 and away.headers["location"].startswith("/login")
        listed = browser.get("/api/v1/exams/sessions").json()["sessions"]
        assert exam in {s["id"] for s in listed}


def test_state_changes_from_another_site_or_login_change_nothing(live) -> None:
    url, rt = live
    browser, exam, student = _proctor_with_a_session(url, rt)
    base = f"/api/v1/exams/sessions/{exam}"
    changes = [
        ("POST", f"{base}/takers", {"json": {"takers": [str(student)]}}),
        ("DELETE", f"{base}/takers/{student}", {}),
        (
            "POST",
            f"{base}/takers/{student}/decision",
            {"json": {"decision": "rejected", "note": "подмена"}},
        ),
    ]
    evil = "https://evil.example"
    with closing(browser):
        token = browser.headers.pop("X-CSRF-Token")
        browser.headers.pop("Origin")
        for method, path, kw in changes:
            bare = browser.request(method, path, headers={"Origin": origin_of(url)}, **kw)
            assert bare.status_code == 403 and bare.json()["type"].endswith("/csrf-failed")
            foreign = browser.request(
                method, path, headers={"Origin": evil, "X-CSRF-Token": token}, **kw
            )
            assert foreign.status_code == 403, (path, foreign.text)
            assert foreign.json()["type"].endswith("/foreign-origin")
        with closing(cabinet(url, OTHER)) as other:
            for method, path, kw in changes:
                r = other.request(method, path, **kw)
                assert r.status_code == 403, (path, r.text)
            assert other.get(base).status_code == 403
            assert other.get(f"{base}/takers/{student}/photo").status_code == 403
        view = browser.get(base).json()
        assert [t["person_id"] for t in view["takers"]] == [str(student)]
        assert view["takers"][0]["decision"] is None
        # with its token and origin the proctor's own change goes through
        browser.headers.update({"Origin": origin_of(url), "X-CSRF-Token": token})
        assert browser.delete(f"{base}/takers/{student}").json()["removed"] is True
