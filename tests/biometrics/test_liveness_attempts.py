"""Liveness attempts over HTTP: a technical failure lets the taker try again, a flat picture
uses up an attempt and is named as such (real photos, the real engine)."""

from __future__ import annotations

import pytest

from tests.biometrics import spoofing
from tests.biometrics.harness import Bio, FrameMaker, send_liveness, served


@pytest.fixture
def live(pg_url):
    with served(pg_url) as (_, bio):
        yield bio


def test_only_a_decision_about_the_face_uses_up_an_attempt(live: Bio):
    bio, make = live, FrameMaker()
    _, taker, exam = bio.enrolled_taker()  # enrolled with obama/obama_1.jpg
    start_url = f"/api/v1/exams/sessions/{exam}/start"

    # the taker sat still (or the camera lagged): not counted, a new challenge is given
    challenge = bio.client.post(start_url, headers=bio.headers(taker)).json()["challenge"]
    r = send_liveness(bio, exam, taker, challenge["nonce"], [make.frontal() for _ in range(4)])
    body = r.json()
    assert body["reason"] == "actions_not_performed" and body["attempt_counted"] is False
    assert body["attempts_left"] == 3

    # one photo of the taker through a virtual camera, its turns a perspective tilt: counted
    start = bio.client.post(start_url, headers=bio.headers(taker)).json()
    assert start["attempts_left"] == 3
    challenge = start["challenge"]
    seq = spoofing.attack(
        "obama/obama_480p.jpg", tuple(challenge["actions"]), "perspective", "virtual_camera", seed=5
    )
    r = send_liveness(bio, exam, taker, challenge["nonce"], seq.frames)
    body = r.json()
    assert body["passed"] is False and body["reason"] == "flat_picture", body
    assert body["attempt_counted"] is True and body["attempts_left"] == 2

    # the real person turning their head still passes with the attempts left
    challenge = bio.client.post(start_url, headers=bio.headers(taker)).json()["challenge"]
    r = send_liveness(bio, exam, taker, challenge["nonce"], make.performing(challenge["actions"]))
    assert r.json()["passed"] is True, r.json()
    assert r.json()["attempts_left"] == 1
