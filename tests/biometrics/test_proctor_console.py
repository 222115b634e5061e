"""The proctor's console over HTTP: «Мои экзамены» (the sessions a proctor opened, across the
schools where they are a proctor), the school's students to pick takers from, adding and
removing takers, the enrolment photo and kept frames for the session's proctor only, and a
decision that has no default and needs its reason.

Adversaries first: a proctor of another school, a proctor of the same school who did not open
the session, a teacher who is not a proctor, the taker, the taker's parent, a relying party
holding the proctor's own token, and an anonymous caller get nothing — no list entry, no
session, no photo, no frame, no decision, no change of takers — and school A's students are
not listed for school B's proctor.
"""

from __future__ import annotations

import io
import secrets
import uuid
from datetime import timedelta

import pytest
from PIL import Image

from audit import service as audit
from idp import statuses
from policies.delegation import ALL_SCOPES
from propusk.db import session_scope, utcnow
from propusk.messages import validation
from propusk.security import Principal, RoleGrant
from tests.biometrics import photos
from tests.biometrics.harness import Bio, FrameMaker, send_frame, send_liveness

SESSIONS = "/api/v1/exams/sessions"


def relying_party(bio: Bio, app, person_id: uuid.UUID) -> dict[str, str]:
    """Headers of a relying party holding ``person_id``'s access token with every scope there
    is: a delegated principal with the person's real roles (held to its scopes)."""
    token = secrets.token_urlsafe(16)
    inner = app.state.principal_resolver

    def resolve(request, session):
        if request.headers.get("authorization") != f"Bearer {token}":
            return inner(request, session)
        grants = [RoleGrant(r, d) for r, d in statuses.role_grants(session, person_id)]
        return Principal(
            kind="person",
            subject=f"person:{person_id}",
            person_id=person_id,
            client_id="e-diary",
            scopes=frozenset(ALL_SCOPES),
            roles=(RoleGrant("authenticated", "*"), *grants),
            channel="token",
        )

    app.state.principal_resolver = resolve
    return {"Authorization": f"Bearer {token}"}


def window(**more) -> dict:
    now = utcnow()
    return {
        "course": "Информатика",
        "title": "Итоговый тест",
        "opens_at": (now - timedelta(minutes=1)).isoformat(),
        "closes_at": (now + timedelta(hours=1)).isoformat(),
        **more,
    }


@pytest.fixture
def world(bio: Bio, app):
    """School A (its proctor, a second proctor, a teacher, two enrolled students of 9А and 10Б
    and the parent of one of them) and school B (its proctor and a student); a session of A's
    proctor with both students, whose first taker has sent frames (kept one day)."""
    a, b = bio.school(), bio.school()
    proctor, other_proctor, b_proctor = bio.proctor(a), bio.proctor(a), bio.proctor(b)
    teacher, _ = bio.person()
    with session_scope(bio.sm) as s:
        statuses.grant_status(s, teacher, "teacher", "roster", school_id=a, actor="test")
    parent, (kid,) = bio.person(children=(utcnow().date() - timedelta(days=365 * 16),))
    bio.enlist(kid, a, "10Б")
    first = bio.student(a, name=("Обамова", "Мишель"), class_name="9А")
    b_student = bio.student(b, name=("Чужая", "Ученица"), class_name="9А")
    for person in (first, kid):
        bio.consent(person, "biometric", *((parent, kid) if person == kid else ()))
        bio.enrol(person)
    r = bio.client.post(
        SESSIONS,
        json=window(school_id=str(a), takers=[str(first), str(kid)], keep_frames_days=1),
        headers=bio.headers(proctor),
    )
    assert r.status_code == 201, r.text
    exam = r.json()["id"]
    make = FrameMaker()
    start = bio.client.post(f"{SESSIONS}/{exam}/start", headers=bio.headers(first)).json()
    frames = make.performing(start["challenge"]["actions"])
    live = send_liveness(bio, exam, first, start["challenge"]["nonce"], frames)
    assert live.json()["passed"], live.text
    assert send_frame(bio, exam, first, make.frontal()).json()["result"] == "match"
    return {
        "a": a,
        "b": b,
        "exam": exam,
        "proctor": proctor,
        "other_proctor": other_proctor,
        "b_proctor": b_proctor,
        "teacher": teacher,
        "parent": parent,
        "kid": kid,
        "first": first,
        "b_student": b_student,
        "rp": relying_party(bio, app, proctor),
    }


def _routes(w: dict) -> list[tuple[str, str, dict]]:
    """Every route of one session's console, with a body of the right shape."""
    exam, first, kid = w["exam"], w["first"], w["kid"]
    taker = f"{SESSIONS}/{exam}/takers/{first}"
    return [
        ("GET", f"{SESSIONS}/{exam}", {}),
        ("GET", f"{taker}/photo", {}),
        ("GET", f"{taker}/frames/1", {}),
        ("GET", f"{taker}/attestation", {}),
        ("POST", f"{taker}/decision", {"json": {"decision": "rejected", "note": "чужой"}}),
        ("POST", f"{SESSIONS}/{exam}/takers", {"json": {"takers": [str(w["b_student"])]}}),
        ("DELETE", f"{SESSIONS}/{exam}/takers/{kid}", {}),
    ]


ADVERSARIES = ("b_proctor", "other_proctor", "teacher", "first", "parent", "rp", "anonymous")


def _headers(bio: Bio, world: dict, who: str) -> dict[str, str]:
    return world["rp"] if who == "rp" else {} if who == "anonymous" else bio.headers(world[who])


def test_nobody_but_the_sessions_proctor_reads_or_changes_it(bio: Bio, world) -> None:
    for who in ADVERSARIES:
        _refused_everything(bio, world, who)


def _refused_everything(bio: Bio, world: dict, who: str) -> None:
    headers = _headers(bio, world, who)
    for method, path, kw in _routes(world):
        r = bio.client.request(method, path, headers=headers, **kw)
        expected = 401 if who == "anonymous" else 403
        assert r.status_code == expected, (who, method, path, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "image" not in r.headers["content-type"]
    # «Мои экзамены» does not list another proctor's session (nor anything to a non-proctor)
    r = bio.client.get(SESSIONS, headers=headers)
    if who in ("b_proctor", "other_proctor"):
        assert r.status_code == 200
        assert world["exam"] not in {s["id"] for s in r.json()["sessions"]}
    else:
        assert r.status_code == (401 if who == "anonymous" else 403), (who, r.text)
    # nothing changed: both takers still there, no decision recorded
    view = bio.client.get(f"{SESSIONS}/{world['exam']}", headers=bio.headers(world["proctor"]))
    assert sorted(t["person_id"] for t in view.json()["takers"]) == sorted(
        [str(world["first"]), str(world["kid"])]
    )
    assert all(t["decision"] is None for t in view.json()["takers"])


def test_school_a_students_are_listed_to_proctors_of_a_only(bio: Bio, world) -> None:
    for who in ("b_proctor", "teacher", "first", "parent", "rp", "anonymous"):
        headers = _headers(bio, world, who)
        r = bio.client.get(f"/api/v1/schools/{world['a']}/exam-students", headers=headers)
        assert r.status_code == (401 if who == "anonymous" else 403), (who, r.text)
        assert "Обамова" not in r.text
        # and a session of school A cannot be opened by them
        body = window(school_id=str(world["a"]), takers=[str(world["first"])])
        assert bio.client.post(SESSIONS, json=body, headers=headers).status_code in (401, 403)
    # school B's proctor lists B's students, never A's
    r = bio.client.get(
        f"/api/v1/schools/{world['b']}/exam-students", headers=bio.headers(world["b_proctor"])
    )
    names = [s["name"] for s in r.json()["students"]]
    assert "Чужая Ученица" in names and "Обамова Мишель" not in names


def test_the_proctor_lists_picks_and_removes_takers(bio: Bio, world) -> None:
    proctor, a = world["proctor"], world["a"]
    h = bio.headers(proctor)
    # a proctor of two schools sees the sessions they opened in both, with the schools to pick
    c = bio.school()
    with session_scope(bio.sm) as s:
        statuses.grant_status(s, proctor, "teacher", "roster", school_id=c, actor="test")
        statuses.appoint_proctor(s, c, proctor, actor="test")
    c_student = bio.student(c, name=("Третья", "Школа"), class_name="5В")
    r = bio.client.post(SESSIONS, json=window(school_id=str(c), takers=[str(c_student)]), headers=h)
    assert r.status_code == 201, r.text
    mine = bio.client.get(SESSIONS, headers=h).json()
    assert {str(a), str(c)} <= {s["id"] for s in mine["schools"]}
    listed = {s["id"]: s for s in mine["sessions"]}
    assert {world["exam"], r.json()["id"]} <= set(listed)
    row = listed[world["exam"]]
    assert row["takers"] == 2 and row["started"] == 1 and row["window"] == "open"
    assert row["school_name"] and row["flagged"] == 0 and row["decided"] == 0

    # the school's students, by name and by class (school B's student is not among them)
    students = f"/api/v1/schools/{a}/exam-students"
    found = bio.client.get(students, params={"q": "обамова"}, headers=h).json()
    assert [s["name"] for s in found["students"]] == ["Обамова Мишель"]
    assert found["students"][0]["class_name"] == "9А" and "9А" in found["classes"]
    by_class = bio.client.get(students, params={"class_name": "10б"}, headers=h).json()
    assert [s["person_id"] for s in by_class["students"]] == [str(world["kid"])]
    everyone = bio.client.get(students, headers=h).json()["students"]
    assert str(world["b_student"]) not in {s["person_id"] for s in everyone}

    # adding: the school's own students only; removing: before the taker starts only
    takers = f"{SESSIONS}/{world['exam']}/takers"
    r = bio.client.post(takers, json={"takers": [str(world["b_student"])]}, headers=h)
    assert r.status_code == 422 and r.json()["type"].endswith("/not-school-participants")
    late = bio.student(a, name=("Поздняя", "Запись"), class_name="9А")
    r = bio.client.post(takers, json={"takers": [str(late), str(world["first"])]}, headers=h)
    assert r.status_code == 200 and r.json() == {"added": 1}
    assert bio.client.delete(f"{takers}/{late}", headers=h).json()["removed"] is True
    r = bio.client.delete(f"{takers}/{world['first']}", headers=h)
    assert r.status_code == 409 and r.json()["type"].endswith("/taker-started")
    assert bio.client.delete(f"{takers}/{late}", headers=h).status_code == 404


def test_the_view_names_takers_and_shows_photo_and_latest_frame(bio: Bio, world) -> None:
    h = bio.headers(world["proctor"])
    view = bio.client.get(f"{SESSIONS}/{world['exam']}", headers=h).json()
    assert view["window"] == "open" and view["school_name"]
    by_id = {t["person_id"]: t for t in view["takers"]}
    first = by_id[str(world["first"])]
    assert first["name"] == "Обамова Мишель" and first["class_name"] == "9А"
    assert first["has_photo"] is True and by_id[str(world["kid"])]["class_name"] == "10Б"
    latest = first["latest"]
    assert latest["kind"] == "frame" and latest["result"] == "match" and latest["kept"] is True

    photo = bio.client.get(f"{SESSIONS}/{world['exam']}/takers/{world['first']}/photo", headers=h)
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert photo.headers["cache-control"] == "no-store"
    portrait = Image.open(io.BytesIO(photo.content))
    assert max(portrait.size) <= 320 and not portrait.info.get("exif")
    assert photo.content not in photos.raw("obama/obama_1.jpg")  # a re-encoded crop
    frame = bio.client.get(
        f"{SESSIONS}/{world['exam']}/takers/{world['first']}/frames/{latest['seq']}", headers=h
    )
    assert frame.status_code == 200 and frame.headers["content-type"].startswith("image/")
    assert frame.headers["cache-control"] == "no-store"
    r = bio.client.get(f"{SESSIONS}/{world['exam']}/takers/{world['first']}/frames/999", headers=h)
    assert r.status_code == 404 and r.json()["type"].endswith("/frame-not-kept")
    # looking at the photo is audited (who, which session), the photo itself never is
    with session_scope(bio.sm) as s:
        audit.integrate_all(s)  # the deferred event, given its log position now
    assert "biometric.photo.viewed" in bio.audit_types(world["first"])


def test_the_photo_goes_with_the_consent(bio: Bio, world) -> None:
    h = bio.headers(world["proctor"])
    url = f"{SESSIONS}/{world['exam']}/takers/{world['first']}/photo"
    assert bio.client.get(url, headers=h).status_code == 200
    r = bio.client.delete(
        f"/api/v1/biometrics/enrolments/{world['first']}", headers=bio.headers(world["first"])
    )
    assert r.status_code == 200 and r.json()["destroyed"] is True
    r = bio.client.get(url, headers=h)
    assert r.status_code == 404 and r.json()["type"].endswith("/no-enrolment-photo")
    view = bio.client.get(f"{SESSIONS}/{world['exam']}", headers=h).json()
    assert {t["person_id"]: t["has_photo"] for t in view["takers"]}[str(world["first"])] is False


def test_a_decision_has_no_default_and_needs_its_reason(bio: Bio, world) -> None:
    h = bio.headers(world["proctor"])
    url = f"{SESSIONS}/{world['exam']}/takers/{world['kid']}/decision"
    for body in ({}, {"decision": "rejected"}, {"decision": "rejected", "note": "   "}):
        r = bio.client.post(url, json=body, headers=h)
        assert r.status_code == 422, r.text
        texts = [validation.validation_text(e) for e in r.json()["errors"]]
        assert any("Основание решения" in t for t in texts), texts
    doc = {"type": "passport", "matches_photo": True}
    for last4 in (None, "12a4", "12345", "123", "١٢٣٤"):
        bad = {**doc, "number_last4": last4} if last4 else doc
        r = bio.client.post(
            url,
            json={"decision": "verified", "note": "паспорт предъявлен", "identity_document": bad},
            headers=h,
        )
        assert r.status_code == 422, (last4, r.text)
        texts = [validation.validation_text(e) for e in r.json()["errors"]]
        assert any("4 цифры номера" in t for t in texts), texts
    r = bio.client.post(
        url,
        json={
            "decision": "verified",
            "note": "паспорт предъявлен, фото совпадает",
            "identity_document": {**doc, "number_last4": "0042"},
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    basis = r.json()["basis"]
    assert basis["note"] == "паспорт предъявлен, фото совпадает"
    assert basis["identity_document"] == {**doc, "number_last4": "0042"}
    listed = {s["id"]: s for s in bio.client.get(SESSIONS, headers=h).json()["sessions"]}
    assert listed[world["exam"]]["decided"] == 1
