"""Rectification as the cabinet offers it: a category picker (``GET /me/categories``: the
subject's catalogued categories with their Russian titles), refusals of categories outside the
catalogue and of proofs that carry a full passport or SNILS number — nothing written then."""

from __future__ import annotations

import pytest

from tests.support.consent_world import Harness, years_ago
from tests.support.lived_in import OLYMPIAD, OPERATOR, SCHOOL, lived_in

API = "/api/v1"
PROBLEMS = "https://propusk.dev/problems/"
BODY = {
    "categories": ["education.grades"],
    "correction": "оценка по математике за четверть — 5, а не 4",
    "proof": "справка школы от 01.11.2026, подписана директором",
}


@pytest.fixture
def family(harness: Harness) -> dict:
    parent, (child,) = harness.person(years_ago(41), children=(years_ago(9),))
    seeded = lived_in(harness.runtime, child, parent)
    return {"parent": parent, "child": child, "headers": harness.person_headers(parent), **seeded}


def _picker(h: Harness, family: dict, headers=None):
    return h.client.get(
        f"{API}/me/categories",
        params={"subject": str(family["child"])},
        headers=headers or family["headers"],
    )


def _demands(h: Harness, family: dict) -> list[dict]:
    r = h.client.get(
        f"{API}/me/obligations", params={"subject": str(family["child"])}, headers=family["headers"]
    )
    assert r.status_code == 200, r.text
    return [o for o in r.json()["obligations"] if o["kind"] == "rectification"]


def _file(h: Harness, family: dict, body: dict):
    return h.client.post(
        f"{API}/me/obligations/rectification",
        json=body,
        params={"subject": str(family["child"])},
        headers=family["headers"],
    )


def test_the_picker_lists_the_subjects_categories_with_titles(harness, family):
    r = _picker(harness, family)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["subject_id"] == str(family["child"])
    found = {c["key"]: c for c in body["categories"]}
    # held in the vault or named by a consent that was given; the refused request's category
    # (attendance, never given, never held) is not there
    assert set(found) == {"person.fullname", "education.grades", "education.achievements"}
    assert found["person.fullname"]["title"] == "Фамилия, имя, отчество"
    assert found["person.fullname"]["held_by"] == [SCHOOL]
    assert found["person.fullname"]["consented_to"] == sorted([OPERATOR, OLYMPIAD])
    assert found["education.achievements"]["consented_to"] == [OLYMPIAD]  # withdrawn, was given
    assert [c["title"] for c in body["categories"]] == sorted(c["title"] for c in found.values())
    assert not any(c["special"] or c["biometric"] for c in found.values())

    # each key the picker offers is accepted by the demand
    r = _file(harness, family, {**BODY, "categories": [found["education.grades"]["key"]]})
    assert r.status_code == 201, r.text


def test_the_picker_is_the_subjects_and_their_representatives_only(harness, family):
    h = harness
    stranger, _ = h.person(years_ago(35))
    r = _picker(h, family, h.person_headers(stranger))
    assert r.status_code in (403, 404), r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "Фамилия" not in r.text
    client = h.org_client(str(family["organizations"]["operator"]), "operator")
    assert _picker(h, family, client).status_code == 403
    assert h.client.get(f"{API}/me/categories").status_code == 401


def test_a_category_outside_the_catalogue_is_refused(harness, family):
    r = _file(harness, family, {**BODY, "categories": ["education.grades", "person.shoe_size"]})
    assert r.status_code == 422, r.text
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert problem["type"] == PROBLEMS + "unknown-category"
    assert problem["categories"] == ["person.shoe_size"]
    assert _demands(harness, family) == []


@pytest.mark.parametrize(
    "proof",
    [
        "паспорт 45 06 123456, выдан 01.02.2020",
        "паспорт 4506123456",
        "паспорт серия 4506 № 123456",
        "СНИЛС 123-456-789 01",
        "снилс 12345678901",
        "свидетельство о рождении, ИНН 500100732259",
    ],
)
def test_a_proof_with_a_full_document_number_is_refused(harness, family, proof):
    r = _file(harness, family, {**BODY, "proof": proof})
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["type"] == PROBLEMS + "proof-too-detailed"
    assert problem["field"] == "proof"
    assert "паспорт, выдан 01.02.2020" in problem["detail"]
    assert _demands(harness, family) == []


@pytest.mark.parametrize(
    "proof",
    [
        "паспорт, выдан 01.02.2020, код подразделения 770-001",
        "справка школы № 17 от 01.11.2026",
        "свидетельство о рождении, выдано ЗАГС г. Твери 12.04.2016",
    ],
)
def test_a_described_document_is_accepted(harness, family, proof):
    r = _file(harness, family, {**BODY, "proof": proof})
    assert r.status_code == 201, r.text
    assert len(_demands(harness, family)) == 1
