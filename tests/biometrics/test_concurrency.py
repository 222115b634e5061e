"""PostgreSQL: a challenge nonce is used once even by concurrent submissions; concurrent frames
get distinct sequence numbers (the taker row is locked after the CPU work, before writing)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import numpy as np
import pytest

from biometrics.checks import FRAMES_PER_MINUTE
from propusk.db import utcnow
from tests.biometrics import photos
from tests.biometrics.harness import Bio, FrameMaker, served


@pytest.fixture
def live(pg_url):
    with served(pg_url) as (_, bio):
        yield bio


def test_concurrent_submissions_use_a_nonce_once_and_number_frames_once(live: Bio):
    bio, make = live, FrameMaker()
    school = bio.school()
    proctor = bio.proctor(school)
    student = bio.student(school)
    bio.consent(student)
    r = bio.client.post(
        "/api/v1/biometrics/enrolments",
        files=[("photos", ("a.jpg", photos.raw("obama/obama_1.jpg"), "image/jpeg"))],
        headers=bio.headers(student),
    )
    assert r.status_code == 201
    body = {
        "school_id": str(school),
        "course": "Биология",
        "title": "Зачёт",
        "opens_at": (utcnow() - timedelta(minutes=1)).isoformat(),
        "closes_at": (utcnow() + timedelta(hours=1)).isoformat(),
        "takers": [str(student)],
    }
    exam = bio.client.post("/api/v1/exams/sessions", json=body, headers=bio.headers(proctor))
    base = f"/api/v1/exams/sessions/{exam.json()['id']}"
    start = bio.client.post(f"{base}/start", headers=bio.headers(student)).json()
    challenge = start["challenge"]
    batches = [make.performing(challenge["actions"]) for _ in range(2)]

    def submit(frames: list[bytes]) -> httpx.Response:
        with httpx.Client(base_url=str(bio.client.base_url), timeout=60) as c:
            return c.post(
                f"{base}/liveness",
                data={"nonce": challenge["nonce"]},
                files=[("frames", (f"{i}.jpg", f, "image/jpeg")) for i, f in enumerate(frames)],
                headers=bio.headers(student),
            )

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(submit, batches))
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409], [r.text for r in results]
    winner = next(r for r in results if r.status_code == 200).json()
    assert winner["passed"] is True and winner["attempts_left"] == 2

    def frame(data: bytes) -> httpx.Response:
        with httpx.Client(base_url=str(bio.client.base_url), timeout=60) as c:
            return c.post(
                f"{base}/frames",
                files=[("frame", ("f.jpg", data, "image/jpeg"))],
                headers=bio.headers(student),
            )

    with ThreadPoolExecutor(3) as pool:
        checks = list(pool.map(frame, [make.frontal() for _ in range(3)]))
    assert all(c.status_code == 200 for c in checks), [c.text for c in checks]
    seqs = sorted(c.json()["seq"] for c in checks)
    assert len(set(seqs)) == 3 and seqs == list(range(seqs[0], seqs[0] + 3))

    # A flood of frames is cut off before any image is decoded (CPU exhaustion).
    blank = [photos.png(np.full((48, 64, 3), 100 + i, np.uint8)) for i in range(FRAMES_PER_MINUTE)]
    codes = [frame(b).status_code for b in blank]
    assert codes.count(429) == 3 and codes[-3:] == [429] * 3
    assert frame(blank[0]).headers["retry-after"] == "10"
