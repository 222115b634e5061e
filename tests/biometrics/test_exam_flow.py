"""The proctor flow end to end over real HTTP (uvicorn), with real photos.

Proctor creates a session → an enrolled taker starts, gets a random liveness challenge and sends
frames performing it (real turned-head photos, a synthetic eyelid warp for blinks) → periodic
frames produce matches and, for runs of non-matching frames, flags → the proctor sees the
timeline and decides. A taker without biometric consent goes the manual path.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from propusk.db import utcnow
from tests.biometrics import photos
from tests.biometrics.harness import Bio, FrameMaker, send_frame, send_liveness, served


@pytest.fixture
def live(db_url):
    with served(db_url) as (_, bio):
        yield bio


def test_proctor_flow_end_to_end(live: Bio):
    bio, make = live, FrameMaker()
    school = bio.school()
    proctor = bio.proctor(school)
    alice = bio.student(school)  # enrolled, biometric consent
    bob = bio.student(school)  # refuses biometrics: manual path
    outsider = bio.student(school)  # not a taker
    bio.consent(alice)
    r = bio.client.post(
        "/api/v1/biometrics/enrolments",
        files=[("photos", ("a.jpg", photos.raw("obama/obama_1.jpg"), "image/jpeg"))],
        headers=bio.headers(alice),
    )
    assert r.status_code == 201, r.text

    body = {
        "school_id": str(school),
        "course": "Алгебра, 9 класс",
        "title": "Итоговая аттестация",
        "opens_at": (utcnow() - timedelta(minutes=1)).isoformat(),
        "closes_at": (utcnow() + timedelta(hours=2)).isoformat(),
        "takers": [str(alice), str(bob)],
    }
    assert (
        bio.client.post("/api/v1/exams/sessions", json=body, headers=bio.headers(alice)).status_code
        == 403
    )
    r = bio.client.post("/api/v1/exams/sessions", json=body, headers=bio.headers(proctor))
    assert r.status_code == 201, r.text
    exam = r.json()["id"]
    assert (
        bio.client.post(
            f"/api/v1/exams/sessions/{exam}/start", headers=bio.headers(outsider)
        ).status_code
        == 403
    )

    # --- liveness: no actions fail, identical frames fail, the performed sequence passes
    start_url = f"/api/v1/exams/sessions/{exam}/start"
    start = bio.client.post(start_url, headers=bio.headers(alice)).json()
    assert start["path"] == "biometric" and start["attempts_left"] == 3
    assert start["frame_interval_seconds"] == 15  # settings.exam_frame_interval_seconds
    challenge = start["challenge"]
    assert len(challenge["actions"]) == 3 and len(challenge["nonce"]) >= 32
    still = [make.frontal() for _ in range(4)]
    r = send_liveness(bio, exam, alice, challenge["nonce"], still)
    assert r.status_code == 200 and r.json()["passed"] is False
    assert r.json()["reason"] == "actions_not_performed"
    r = send_liveness(bio, exam, alice, challenge["nonce"], still)  # the nonce is single-use
    assert r.status_code == 409 and r.json()["type"].endswith("/bad-nonce")

    challenge = bio.client.post(start_url, headers=bio.headers(alice)).json()["challenge"]
    frames = make.performing(challenge["actions"])
    r = send_liveness(bio, exam, alice, challenge["nonce"], [*frames, frames[1]])
    assert r.json()["passed"] is False and r.json()["reason"] == "replayed_frames"

    challenge = bio.client.post(start_url, headers=bio.headers(alice)).json()["challenge"]
    frames = make.performing(challenge["actions"])
    r = send_liveness(bio, exam, alice, challenge["nonce"], frames)
    assert r.status_code == 200, r.text
    assert r.json()["passed"] is True, r.json()
    assert r.json()["completed"] == challenge["actions"]
    assert r.json()["median_distance"] <= bio.runtime.settings.face_threshold
    # A liveness frame sent again as a periodic frame is a replay.
    r = send_frame(bio, exam, alice, frames[0])
    assert r.status_code == 409 and r.json()["type"].endswith("/replayed-frame")

    # --- periodic frames: matches, then runs that become flags
    results = [send_frame(bio, exam, alice, make.frontal()).json()["result"] for _ in range(3)]
    assert results == ["match"] * 3
    biden = [
        send_frame(bio, exam, alice, make.image(n)).json()
        for n in ("biden/biden_1.jpg", "biden/biden_2.jpg")
    ]
    assert [b["result"] for b in biden] == ["mismatch", "mismatch"]
    assert biden[0]["flag"] is None and biden[1]["flag"]["kind"] == "mismatch"
    assert biden[1]["distance"] > bio.runtime.settings.face_threshold
    crowd = [
        send_frame(bio, exam, alice, make.image("multi/two_people.jpg")).json() for _ in range(2)
    ]
    assert [c["result"] for c in crowd] == ["several_faces", "several_faces"]
    empty = np.full((480, 640, 3), 90, np.uint8)
    nobody = send_frame(bio, exam, alice, photos.jpeg(empty)).json()
    assert nobody["result"] == "no_face" and nobody["flag"] is None
    same = make.frontal()
    assert send_frame(bio, exam, alice, same).json()["result"] == "match"
    replayed = send_frame(bio, exam, alice, same)
    assert replayed.status_code == 409 and replayed.json()["type"].endswith("/replayed-frame")
    bad = send_frame(bio, exam, alice, b"GIF89a not really")
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(
        "application/problem+json"
    )

    # --- the manual path
    r = bio.client.post(f"/api/v1/exams/sessions/{exam}/start", headers=bio.headers(bob))
    assert r.json() == {
        "path": "manual",
        "reason": "no_biometric_consent",
        "detail": r.json()["detail"],
    }
    assert send_frame(bio, exam, bob, make.frontal()).status_code == 409

    # --- the proctor's view and decisions
    assert (
        bio.client.get(f"/api/v1/exams/sessions/{exam}", headers=bio.headers(alice)).status_code
        == 403
    )
    view = bio.client.get(f"/api/v1/exams/sessions/{exam}", headers=bio.headers(proctor)).json()
    takers = {t["person_id"]: t for t in view["takers"]}
    a = takers[str(alice)]
    assert a["liveness"]["passed"] is True
    assert [f["kind"] for f in a["flags"]] == ["mismatch", "several_faces"]
    periodic = [e for e in a["timeline"] if e["kind"] == "frame"]
    assert [e["result"] for e in periodic] == ["match"] * 3 + ["mismatch"] * 2 + [
        "several_faces"
    ] * 2 + ["no_face", "match"]
    assert a["summary"]["suggestion"] == "review"
    assert "template" not in str(view) and "encoding" not in str(view)
    b = takers[str(bob)]
    assert b["path"] == "manual" and b["summary"]["suggestion"] == "manual_check"

    decide = f"/api/v1/exams/sessions/{exam}/takers"
    r = bio.client.post(
        f"{decide}/{bob}/decision",
        json={"decision": "verified", "note": "без документа"},
        headers=bio.headers(proctor),
    )
    assert r.status_code == 422 and r.json()["type"].endswith("/identity-document-required")
    doc = {"type": "passport", "number_last4": "1234"}
    r = bio.client.post(
        f"{decide}/{bob}/decision",
        json={"decision": "verified", "note": "паспорт предъявлен", "identity_document": doc},
        headers=bio.headers(proctor),
    )
    assert r.status_code == 200, r.text
    assert r.json()["basis"]["path"] == "manual"
    assert r.json()["basis"]["identity_document"]["type"] == "passport"
    r = bio.client.post(
        f"{decide}/{alice}/decision",
        json={"decision": "verified", "note": "посторонние лица — сосед по комнате"},
        headers=bio.headers(proctor),
    )
    assert r.status_code == 200 and r.json()["basis"]["flags"] == ["mismatch", "several_faces"]
    assert (
        bio.client.post(
            f"{decide}/{alice}/decision",
            json={"decision": "maybe", "note": "не знаю"},
            headers=bio.headers(proctor),
        ).status_code
        == 422
    )

    # --- attaching the decision to the exam result needs the participant's transfer consent
    att = f"{decide}/{alice}/attestation"
    r = bio.client.get(att, headers=bio.headers(proctor))
    assert r.status_code == 403 and r.json()["type"].endswith("/transfer-consent-required")
    bio.consent(alice, "result")
    r = bio.client.get(att, headers=bio.headers(proctor))
    assert r.status_code == 200 and r.json()["identity_check"] == "verified"

    types = bio.audit_types(alice)
    for event in ("biometric.enrolled", "biometric.liveness", "biometric.check", "exam.decision"):
        assert event in types
