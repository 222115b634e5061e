"""Consent decisions are rate-limited per person (issue 16): signing, refusing, withdrawing
and suspending count together; over the budget the API answers 429 problem+json with
Retry-After and nothing is written; the budget is the acting person's."""

from __future__ import annotations

from datetime import date

import pytest

from tests.support.settings import make_settings


@pytest.fixture
def settings(db_url):
    return make_settings(db_url, rate_consent_decisions="3/60")


def test_a_person_over_the_budget_gets_429_and_nothing_changes(world):
    h = world.h
    adult, _ = h.person(date(1990, 1, 1))
    other, _ = h.person(date(1991, 1, 1))
    asked = [h.request(world.op_h, world.tpl["id"], adult)["id"] for _ in range(4)]
    h.act(adult, asked[0], "approve")
    h.act(adult, asked[1], "refuse")
    h.act(adult, asked[0], "withdraw")
    refused = h.client.post(f"/api/v1/consents/{asked[2]}/refuse", headers=h.person_headers(adult))
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    body = refused.json()
    assert body["type"].endswith("/too-many-requests")
    assert 1 <= int(refused.headers["Retry-After"]) <= 20 and body["retry_after"] >= 1
    # nothing written: the request still waits for an answer
    state = h.client.get(f"/api/v1/consents/{asked[2]}", headers=h.person_headers(adult))
    assert state.json()["state"] == "requested"
    # another person decides as usual
    theirs = h.request(world.op_h, world.tpl["id"], other)["id"]
    h.act(other, theirs, "refuse")


def test_a_stranger_spends_their_own_budget_never_their_victims(world):
    """The budget is the acting person's: someone hammering another person's consents is
    refused (403, then 429) while the subject decides as usual; anonymous callers get 401
    before any count."""
    h = world.h
    victim, _ = h.person(date(1990, 1, 1))
    stranger, _ = h.person(date(1992, 1, 1))
    consent = h.request(world.op_h, world.tpl["id"], victim)["id"]
    for _ in range(3):
        h.act(stranger, consent, "refuse", expect=403)
    h.act(stranger, consent, "refuse", expect=429)
    for _ in range(5):
        assert h.client.post(f"/api/v1/consents/{consent}/refuse").status_code == 401
    h.act(victim, consent, "refuse")
