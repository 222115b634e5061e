"""The participant's answers name what a person reads: operators, purposes and categories by
their titles, the consent each transferred category relied on, the destruction clock of a
withdrawn consent, and what a withdrawal or a demand to stop would start — with real data: a
consent given, one withdrawn, transfers given and refused, held values."""

from __future__ import annotations

import re
from datetime import date

from consent import deadlines
from propusk.db import utcnow
from tests.support.consent_world import World, years_ago

KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


def _lived_in(world: World):
    """An adult with a given consent, a withdrawn one, held values, a partial pull and a
    refused one."""
    h = world.h
    subject, _ = h.person(years_ago(30))
    given = h.request(world.op_h, world.tpl["id"], subject, categories=["person.fullname"])
    h.act(subject, given["id"], "approve")
    gone = h.request(world.op_h, world.tpl["id"], subject, categories=["person.snils"])
    h.act(subject, gone["id"], "approve")
    h.relate(world.sup, subject)
    h.push(world.sup_h, subject, "person.fullname", {"last": "Петрова", "first": "Анна"})
    h.push(world.sup_h, subject, "education.grades", [{"subject": "математика", "grade": 5}])
    assert h.pull(world.op_h, subject, "person.fullname,education.grades").status_code == 200
    h.act(subject, gone["id"], "withdraw")
    assert h.pull(world.op_h, subject, "person.snils").status_code in (200, 403)
    return subject, given, gone


def test_consents_carry_titles_operator_and_destruction_clock(world: World):
    h = world.h
    subject, given, gone = _lived_in(world)
    r = h.client.get("/api/v1/me/consents", headers=h.person_headers(subject))
    assert r.status_code == 200, r.text
    by_id = {c["id"]: c for c in r.json()["consents"]}
    c = by_id[given["id"]]
    assert c["operator"]["name"] == world.op["name"] and c["operator"]["inn"] == world.op["inn"]
    assert c["purpose_title"] and not KEY.match(c["purpose_title"])
    assert c["category_titles"] == [{"key": "person.fullname", "title": "Фамилия, имя, отчество"}]
    assert c["destruction"] is None
    w = by_id[gone["id"]]
    assert w["state"] == "withdrawn"
    due = date.fromisoformat(w["destruction"]["due_date"])
    assert due == deadlines.destruction_due(utcnow())
    assert w["destruction"]["reason"] == "withdrawn" and w["destruction"]["confirmed_at"] is None


def test_transfers_name_operator_categories_outcome_and_the_consent_relied_on(world: World):
    h = world.h
    subject, given, _ = _lived_in(world)
    r = h.client.get("/api/v1/me/transfers", headers=h.person_headers(subject))
    assert r.status_code == 200, r.text
    transfers = r.json()["transfers"]
    partial = next(t for t in transfers if t["decision"] == "partial")
    assert partial["operator"]["name"] == world.op["name"]
    assert partial["purpose_title"] and not KEY.match(partial["purpose_title"])
    items = {i["category"]: i for i in partial["items"]}
    assert items["person.fullname"]["outcome"] == "given"
    assert items["person.fullname"]["consent_id"] == given["id"]
    assert items["education.grades"]["outcome"] == "refused"
    assert items["education.grades"]["reason"] == "category_not_covered"
    assert items["education.grades"]["consent_id"] is None
    assert all(not KEY.match(i["title"]) for t in transfers for i in t["items"])
    refused = next(t for t in transfers if t["decision"] == "refused")
    assert [i["outcome"] for i in refused["items"]] == ["refused"]
    assert refused["items"][0]["reason"] == "consent_withdrawn"


def test_held_values_are_titled_with_their_supplier(world: World):
    h = world.h
    subject, _, _ = _lived_in(world)
    r = h.client.get("/api/v1/me/data", headers=h.person_headers(subject))
    assert r.status_code == 200, r.text
    data = {d["category"]: d for d in r.json()["data"]}
    assert data["person.fullname"]["title"] == "Фамилия, имя, отчество"
    assert data["education.grades"]["supplier"]["name"] == world.sup["name"]


def test_consequences_say_what_a_withdrawal_and_a_stop_would_start(world: World):
    h = world.h
    subject, given, gone = _lived_in(world)
    headers = h.person_headers(subject)
    r = h.client.get(f"/api/v1/consents/{given['id']}/consequences", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["can_withdraw"] and body["can_stop"] and body["withdraw_kind"] == "destruction"
    today = deadlines.receipt_date(utcnow())
    assert date.fromisoformat(body["withdraw_due"]) == deadlines.destruction_due(utcnow())
    assert date.fromisoformat(body["stop_due"]) == deadlines.add_working_days(today, 10)
    assert body["ends_for_all"] is False
    ended = h.client.get(f"/api/v1/consents/{gone['id']}/consequences", headers=headers).json()
    assert ended["can_withdraw"] is False and ended["can_stop"] is False
    assert ended["withdraw_due"] is None and ended["stop_due"] is None


def test_consequences_of_another_persons_consent_are_refused(world: World):
    h = world.h
    _, given, _ = _lived_in(world)
    stranger, _ = h.person(years_ago(40))
    r = h.client.get(
        f"/api/v1/consents/{given['id']}/consequences", headers=h.person_headers(stranger)
    )
    assert r.status_code in (403, 404), r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    operator = h.client.get(f"/api/v1/consents/{given['id']}/consequences", headers=world.op_h)
    assert operator.status_code == 403, operator.text


def test_a_minors_consents_are_named_for_the_parent(world: World):
    h = world.h
    parent, (child,) = h.person(years_ago(40), children=(years_ago(10),))
    c = h.request(world.op_h, world.tpl["id"], child)
    r = h.client.get(f"/api/v1/me/requests?subject={child}", headers=h.person_headers(parent))
    assert r.status_code == 200, r.text
    (req,) = [x for x in r.json()["requests"] if x["id"] == c["id"]]
    assert req["operator"]["address"] == world.op["address"]
    assert [t["key"] for t in req["category_titles"]] == world.tpl["categories"]
    assert all(not KEY.match(t["title"]) for t in req["category_titles"])


def test_consequences_offer_only_what_the_caller_may_do(world: World):
    """A relying party reading the person's consents, or a child under 14, is told the
    consent cannot be withdrawn or stopped by them (the acts' routes refuse both)."""
    h = world.h
    subject, given, _ = _lived_in(world)
    token = h.relying_party(subject, {"consents.read"})
    r = h.client.get(f"/api/v1/consents/{given['id']}/consequences", headers=token)
    assert r.status_code == 200, r.text
    assert r.json()["can_withdraw"] is False and r.json()["can_stop"] is False
    parent, (child,) = h.person(years_ago(40), children=(years_ago(10),))
    c = h.request(world.op_h, world.tpl["id"], child)
    h.act(parent, c["id"], "approve")
    path = f"/api/v1/consents/{c['id']}/consequences"
    as_child = h.client.get(path, headers=h.person_headers(child)).json()
    assert as_child["can_withdraw"] is False and as_child["can_stop"] is False
    as_parent = h.client.get(path, headers=h.person_headers(parent)).json()
    assert as_parent["can_withdraw"] is True and as_parent["can_stop"] is True
