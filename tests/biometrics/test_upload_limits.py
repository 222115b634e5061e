"""Face photo uploads are rate-limited per person (issue 16): each enrolment runs face
detection on up to three photos, so a loop of uploads is a way to burn the server's CPU. Over
the budget the answer is 429 problem+json with Retry-After, before any photo is read; another
person keeps their own budget."""

from __future__ import annotations

import pytest

from tests.biometrics.harness import ENROLMENTS
from tests.support.settings import make_settings


@pytest.fixture
def settings(db_url):
    return make_settings(db_url, rate_uploads="2/3600")


def _junk(bio, who):
    files = [("photos", ("a.jpg", b"not a photo", "image/jpeg"))]
    return bio.client.post(ENROLMENTS, files=files, headers=bio.headers(who))


def test_a_person_over_the_upload_budget_gets_429(bio):
    person, _ = bio.person()
    codes = [_junk(bio, person).status_code for _ in range(3)]
    assert all(c != 429 and c < 500 for c in codes[:2]), codes
    assert codes[2] == 429
    refused = _junk(bio, person)
    assert refused.json()["type"].endswith("/too-many-requests")
    assert int(refused.headers["Retry-After"]) >= 1
    other, _ = bio.person()
    assert _junk(bio, other).status_code != 429
