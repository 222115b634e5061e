"""Roster files are rate-limited per school (issue 16): previews, applies and one-step imports
share one budget; over it the API answers 429 problem+json with Retry-After before the file is
read; another school keeps its own budget."""

from __future__ import annotations

import pytest

from tests.idp.helpers import as_person
from tests.idp.school_world import console_client, lived_in_school
from tests.support.settings import make_settings


@pytest.fixture
def settings(db_url):
    return make_settings(db_url, rate_roster_imports="3/3600")


@pytest.fixture
def api(app):
    yield from console_client(app)


def _preview(api, school):
    return api.post(
        f"{school.base}/roster/preview",
        content=school.roster,
        headers={**as_person(school.admin), "content-type": "text/csv"},
    )


def test_a_school_over_its_budget_gets_429_and_another_school_does_not(api, runtime):
    first = lived_in_school(api, runtime)  # its import spent one of three
    assert [_preview(api, first).status_code for _ in range(2)] == [200, 200]
    refused = _preview(api, first)
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"].endswith("/too-many-requests")
    assert int(refused.headers["Retry-After"]) >= 1
    one_step = api.post(
        f"{first.base}/roster",
        content=first.roster,
        headers={**as_person(first.admin), "content-type": "text/csv"},
    )
    assert one_step.status_code == 429  # the same budget
    second = lived_in_school(api, runtime)
    assert _preview(api, second).status_code == 200
