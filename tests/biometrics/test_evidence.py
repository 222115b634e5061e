"""Frames are not kept by default; when a session keeps them they are encrypted and expire."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from biometrics.models import ExamCheck, ExamEvidence
from biometrics.retention import purge_expired_evidence
from propusk import crypto
from propusk.db import session_scope, utcnow
from tests.biometrics.harness import FrameMaker, fail_liveness


def _evidence(bio, person: uuid.UUID) -> list[tuple[ExamEvidence, ExamCheck]]:
    with session_scope(bio.sm) as s:
        rows = s.execute(
            select(ExamEvidence, ExamCheck)
            .join(ExamCheck, ExamCheck.id == ExamEvidence.check_id)
            .where(ExamEvidence.person_id == person)
        ).all()
        return [(e, c) for e, c in rows]


def test_frames_kept_only_on_request_encrypted_and_destroyed_after_n_days(bio, db_url):
    make = FrameMaker()
    school = bio.school()
    proctor = bio.proctor(school)
    kept, plain = bio.student(school), bio.student(school)
    for person in (kept, plain):
        bio.consent(person)
        bio.enrol(person, "obama/obama_1.jpg")
    default_exam = bio.open_exam(school, proctor, [plain])
    keeping_exam = bio.open_exam(school, proctor, [kept], keep_frames_days=3)

    fail_liveness(bio, default_exam, plain, [make.frontal() for _ in range(3)])
    assert _evidence(bio, plain) == []

    frames = [make.frontal() for _ in range(3)]
    fail_liveness(bio, keeping_exam, kept, frames)
    stored = _evidence(bio, kept)
    assert len(stored) == 3
    kek = bio.runtime.settings.kek_bytes
    for evidence, check in stored:
        assert (
            evidence.frame_enc[:4] != b"\xff\xd8\xff\xe0"
            and frames[0][:64] not in evidence.frame_enc
        )
        plain_frame = crypto.decrypt(kek, evidence.frame_enc, f"exam-frame:{check.id}".encode())
        assert plain_frame in frames
        assert timedelta(days=2, hours=23) < evidence.expires_at - check.at <= timedelta(days=3)

    with session_scope(bio.sm) as s:  # other tests' frames may expire sooner: only ours count
        purge_expired_evidence(s, utcnow() + timedelta(days=2))
    assert len(_evidence(bio, kept)) == 3
    with session_scope(bio.sm) as s:
        assert purge_expired_evidence(s, utcnow() + timedelta(days=3, minutes=1)) >= 3
    assert _evidence(bio, kept) == []


def test_withdrawal_also_destroys_evidence_frames(bio, db_url):
    make = FrameMaker()
    school = bio.school()
    proctor = bio.proctor(school)
    person = bio.student(school)
    consent_id = bio.consent(person)
    bio.enrol(person, "obama/obama_2.jpg")
    exam = bio.open_exam(school, proctor, [person], keep_frames_days=30)
    fail_liveness(bio, exam, person, [make.frontal() for _ in range(3)])
    assert len(_evidence(bio, person)) == 3
    bio.withdraw(consent_id, person)
    assert _evidence(bio, person) == []
    start = bio.client.post(f"/api/v1/exams/sessions/{exam}/start", headers=bio.headers(person))
    assert start.json()["path"] == "manual" and start.json()["reason"] == "no_biometric_consent"


def test_bad_exam_sessions_are_refused(bio, db_url):
    school = bio.school()
    proctor = bio.proctor(school)
    student = bio.student(school)
    other_school = bio.school()
    base = {
        "school_id": str(school),
        "course": "Химия",
        "title": "Зачёт",
        "opens_at": (utcnow() + timedelta(hours=2)).isoformat(),
        "closes_at": (utcnow() + timedelta(hours=1)).isoformat(),
        "takers": [str(student)],
    }
    url = "/api/v1/exams/sessions"
    r = bio.client.post(url, json=base, headers=bio.headers(proctor))
    assert r.status_code == 422 and r.json()["type"].endswith("/bad-window")
    ok = {**base, "opens_at": (utcnow() + timedelta(minutes=30)).isoformat()}
    ok["closes_at"] = (utcnow() + timedelta(hours=1)).isoformat()
    r = bio.client.post(
        url, json={**ok, "school_id": str(other_school)}, headers=bio.headers(proctor)
    )
    assert r.status_code == 403  # the policy: no proctor role in that school's domain
    assert r.json()["permission"] == "exam.session:create"
    r = bio.client.post(
        url, json={**ok, "takers": [str(uuid.uuid4())]}, headers=bio.headers(proctor)
    )
    assert r.status_code == 404
    r = bio.client.post(url, json={**ok, "keep_frames_days": 365}, headers=bio.headers(proctor))
    assert r.status_code == 422
    r = bio.client.post(url, json={**ok, "opens_at": "yesterday"}, headers=bio.headers(proctor))
    assert r.status_code == 422
    r = bio.client.post(url, json=ok, headers=bio.headers(proctor))
    assert r.status_code == 201
    exam = r.json()["id"]
    r = bio.client.post(f"/api/v1/exams/sessions/{exam}/start", headers=bio.headers(student))
    assert r.status_code == 409 and r.json()["type"].endswith("/exam-not-open")
    r = bio.client.get(f"/api/v1/exams/sessions/{uuid.uuid4()}", headers=bio.headers(proctor))
    assert r.status_code == 404


def test_bad_taker_input_gets_4xx_never_500(bio, db_url):
    school = bio.school()
    proctor = bio.proctor(school)
    student = bio.student(school)
    body = {
        "school_id": str(school),
        "course": "История",
        "title": "Тест",
        "opens_at": (utcnow() - timedelta(minutes=1)).isoformat(),
        "closes_at": (utcnow() + timedelta(hours=1)).isoformat(),
        "takers": [str(student)],
    }
    exam = bio.client.post(
        "/api/v1/exams/sessions", json=body, headers=bio.headers(proctor)
    ).json()["id"]
    h = bio.headers(student)
    base = f"/api/v1/exams/sessions/{exam}"
    assert bio.client.post(f"{base}/liveness", headers=h).status_code == 422
    r = bio.client.post(
        f"{base}/liveness",
        data={"nonce": "x" * 20},
        files=[("frames", ("a.jpg", b"junk", "image/jpeg"))] * 3,
        headers=h,
    )
    assert r.status_code == 409  # not started: no biometric path yet
    assert bio.client.post(f"{base}/frames", headers=h).status_code == 422
    assert bio.client.post(f"{base}/start", headers=h).json()["path"] == "manual"
    r = bio.client.post(
        f"{base}/takers/{uuid.uuid4()}/decision",
        json={"decision": "rejected", "note": "нет такого участника"},
        headers=bio.headers(proctor),
    )
    assert r.status_code == 404
    r = bio.client.post(
        f"{base}/takers/{student}/decision",
        json={
            "decision": "rejected",
            "note": "права не принимаются",
            "identity_document": {"type": "driving_licence", "number_last4": "1234"},
        },
        headers=bio.headers(proctor),
    )
    assert r.status_code == 422
    r = bio.client.post(
        f"{base}/takers/{student}/decision",
        json={"decision": "manual_check", "note": "камера не работала"},
        headers=bio.headers(proctor),
    )
    assert r.status_code == 200 and r.json()["basis"]["path_reason"] == "no_biometric_consent"
    r = bio.client.get(f"{base}/takers/{student}/attestation", headers=bio.headers(proctor))
    assert r.status_code == 403
    assert bio.client.get(f"{base}/takers/{student}/attestation", headers=h).status_code == 403
