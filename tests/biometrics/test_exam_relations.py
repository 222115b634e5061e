"""A proctor adds as takers only participants with a status in the exam's school, and records
«личность подтверждена» (``verified``) only on a completed check — liveness passed and a
matching frame — or on the identity document path."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from biometrics.models import ExamSession
from propusk.db import session_scope, utcnow
from tests.biometrics.harness import Bio, FrameMaker, enrol_photos, fail_liveness


def _sessions_of(bio: Bio, school) -> int:
    with session_scope(bio.sm) as s:
        return s.scalar(
            select(func.count()).select_from(ExamSession).where(ExamSession.school_id == school)
        )


def test_takers_need_a_status_in_the_exams_school(bio: Bio, db_url):
    school, elsewhere = bio.school(), bio.school()
    proctor = bio.proctor(school)
    mine = bio.student(school)
    theirs = bio.student(elsewhere)
    nobody, _ = bio.person()
    body = {
        "school_id": str(school),
        "course": "Алгебра",
        "title": "Зачёт",
        "opens_at": (utcnow() - timedelta(minutes=1)).isoformat(),
        "closes_at": (utcnow() + timedelta(hours=1)).isoformat(),
        "takers": [str(mine), str(theirs), str(nobody)],
    }
    r = bio.client.post("/api/v1/exams/sessions", json=body, headers=bio.headers(proctor))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"].endswith("/not-school-participants")
    assert sorted(problem["takers"]) == sorted([str(theirs), str(nobody)])
    assert _sessions_of(bio, school) == 0  # nothing created

    r = bio.client.post(
        "/api/v1/exams/sessions", json={**body, "takers": [str(mine)]}, headers=bio.headers(proctor)
    )
    assert r.status_code == 201, r.text
    assert _sessions_of(bio, school) == 1


def verified(note: str, **more) -> dict:
    """A «личность подтверждена» decision with its reason."""
    return {"decision": "verified", "note": note, **more}


def test_verified_needs_a_completed_check_or_the_document(bio: Bio, db_url):
    school = bio.school()
    proctor = bio.proctor(school)
    taker = bio.student(school)
    bio.consent(taker)
    r = enrol_photos(bio, taker, "obama/obama_1.jpg")
    assert r.status_code == 201, r.text
    exam = bio.open_exam(school, proctor, [taker])
    url = f"/api/v1/exams/sessions/{exam}/takers/{taker}/decision"
    # no default and no decision without its reason
    r = bio.client.post(url, json={"decision": "verified"}, headers=bio.headers(proctor))
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "note"]
    # not started yet: no check at all
    r = bio.client.post(url, json=verified("не начинал"), headers=bio.headers(proctor))
    assert r.status_code == 422 and r.json()["type"].endswith("/identity-document-required")

    # the biometric path, liveness failed: the frames matched nobody's live presence
    make = FrameMaker()
    fail_liveness(bio, exam, taker, [make.frontal() for _ in range(3)])
    r = bio.client.post(url, json=verified("лицо похоже"), headers=bio.headers(proctor))
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/identity-not-established")
    # a document that does not match the face establishes nothing either
    doc = {"type": "passport", "number_last4": "1234", "matches_photo": False}
    r = bio.client.post(
        url, json=verified("паспорт", identity_document=doc), headers=bio.headers(proctor)
    )
    assert r.status_code == 409 and r.json()["type"].endswith("/identity-not-established")
    view = bio.client.get(f"/api/v1/exams/sessions/{exam}", headers=bio.headers(proctor)).json()
    assert view["takers"][0]["decision"] is None  # nothing recorded

    # the document path: the proctor checked the passport against the face
    r = bio.client.post(
        url,
        json=verified("паспорт сверен с лицом", identity_document={**doc, "matches_photo": True}),
        headers=bio.headers(proctor),
    )
    assert r.status_code == 200, r.text
    assert r.json()["basis"]["identity_document"]["type"] == "passport"
    # other decisions need no evidence
    r = bio.client.post(
        url,
        json={"decision": "manual_check", "note": "перепроверить"},
        headers=bio.headers(proctor),
    )
    assert r.status_code == 200, r.text
    assert str(uuid.UUID(r.json()["decided_by"])) == str(proctor)
