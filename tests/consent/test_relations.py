"""Relations: who may touch whose data (issue 12).

* A consent that names a supplier binds the gate: another supplier's ticket is refused
  (``supplier_not_named``), and a pull releases only the named supplier's vault value of the
  categories that consent allowed (the answer, the transfer record and the audit event name it).
* A supplier writes a subject's category only with a relation: the subject has a status in the
  supplier's school (the school with the supplier's ОГРН) or a given consent that names the
  supplier covers the category; otherwise 403 ``no-relation`` and nothing is written.
* Values have per-category size limits (catalogue ``max_bytes``, a default otherwise): over it,
  413 ``value-too-large`` and nothing is written.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from audit import service as audit
from consent import gate
from consent.models import Transfer, VaultItem
from propusk.db import session_scope, utcnow
from tests.support.consent_world import World, years_ago

CATS = ["person.fullname", "education.grades"]


def _ticket(world: World, sup_h: dict, subject, categories=CATS):
    body = {
        "operator_id": world.op["id"],
        "subject_id": str(subject),
        "purpose": "attestation.online",
        "categories": categories,
    }
    return world.h.client.post("/api/v1/transfers/tickets", json=body, headers=sup_h)


def _given(world: World, subject, supplier: dict | None, categories=CATS) -> dict:
    extra = {"supplier_id": supplier["id"]} if supplier else {}
    c = world.h.request(world.op_h, world.tpl["id"], subject, categories=categories, **extra)
    world.h.act(subject, c["id"], "approve")
    return c


def _vault_rows(runtime, subject) -> list[VaultItem]:
    with session_scope(runtime.sessionmaker) as s:
        return list(s.scalars(select(VaultItem).where(VaultItem.subject_id == subject)))


def test_a_ticket_needs_the_supplier_the_consent_names(world: World, runtime):
    h = world.h
    other = h.organization("supplier")
    other_h = h.org_client(other["id"], "supplier")
    subject, _ = h.person(years_ago(30))
    c = _given(world, subject, world.sup)

    r = _ticket(world, other_h, subject)
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["refused"] == dict.fromkeys(CATS, "supplier_not_named")
    assert "ticket" not in r.json()
    r = _ticket(world, world.sup_h, subject)
    assert r.status_code == 200, r.text
    assert r.json()["allowed"] == CATS and r.json()["consent_ids"] == [c["id"]]

    # the gate itself: the asking supplier is part of the question
    with session_scope(runtime.sessionmaker) as s:
        d = gate.decide(
            s,
            operator_id=uuid.UUID(world.op["id"]),
            subject_id=subject,
            purpose="attestation.online",
            categories=CATS,
            now=utcnow(),
            supplier_id=uuid.UUID(other["id"]),
        )
    assert d.refused == dict.fromkeys(CATS, "supplier_not_named")

    # a consent that names no supplier binds none
    free, _ = h.person(years_ago(30))
    _given(world, free, None)
    assert _ticket(world, other_h, free).status_code == 200


def test_a_pull_releases_only_the_named_suppliers_values(world: World, runtime):
    h = world.h
    other = h.organization("supplier")
    other_h = h.org_client(other["id"], "supplier")
    subject, _ = h.person(years_ago(30))
    for sup in (world.sup, other):
        h.relate(sup, subject)
    c = _given(world, subject, world.sup, categories=["person.fullname"])
    h.push(world.sup_h, subject, "person.fullname", "Иванов Иван (школа)")
    h.push(other_h, subject, "person.fullname", "Чужое значение")  # newer, another supplier

    r = h.pull(world.op_h, subject, "person.fullname")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["data"] == {"person.fullname": "Иванов Иван (школа)"}
    assert body["suppliers"] == {"person.fullname": world.sup["id"]}
    assert body["allowed_by"] == {"person.fullname": c["id"]}
    with session_scope(runtime.sessionmaker) as s:
        audit.integrate_all(s)  # PostgreSQL: the decision's event waits in the outbox
    with session_scope(runtime.sessionmaker) as s:
        (t,) = s.scalars(select(Transfer).where(Transfer.subject_id == subject))
        assert t.suppliers == {"person.fullname": world.sup["id"]}
        (event,) = audit.events_for_subject(s, f"person:{subject}", ["gate.decision"])
        assert event.body["suppliers"] == {"person.fullname": world.sup["id"]}

    # only another supplier holds a value: allowed by the consent, but nothing is released
    lone, _ = h.person(years_ago(30))
    h.relate(other, lone)
    _given(world, lone, world.sup, categories=["person.fullname"])
    h.push(other_h, lone, "person.fullname", "Чужое значение")
    r = h.pull(world.op_h, lone, "person.fullname")
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {}
    assert r.json()["suppliers"] == {"person.fullname": world.sup["id"]}

    # a consent naming no supplier releases the newest value, whoever wrote it
    free, _ = h.person(years_ago(30))
    for sup in (world.sup, other):
        h.relate(sup, free)
    _given(world, free, None, categories=["person.fullname"])
    h.push(world.sup_h, free, "person.fullname", "старое")
    h.push(other_h, free, "person.fullname", "новое")
    r = h.pull(world.op_h, free, "person.fullname")
    assert r.json()["data"] == {"person.fullname": "новое"} and r.json()["suppliers"] == {}


def test_a_supplier_writes_only_with_a_relation(world: World, runtime):
    h = world.h
    subject, _ = h.person(years_ago(30))
    r = h.push(world.sup_h, subject, "person.fullname", "Иванов", expect=403)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/no-relation")
    # a status in another school is no relation to this supplier
    h.relate(h.organization("supplier"), subject)
    h.push(world.sup_h, subject, "person.fullname", "Иванов", expect=403)
    # a requested (not given) consent naming the supplier is none either
    c = h.request(world.op_h, world.tpl["id"], subject, supplier_id=world.sup["id"])
    h.push(world.sup_h, subject, "person.fullname", "Иванов", expect=403)
    assert _vault_rows(runtime, subject) == []
    with session_scope(runtime.sessionmaker) as s:
        assert audit.events_for_subject(s, f"person:{subject}", ["vault.write"]) == []

    # given: the categories it covers, not others
    h.act(subject, c["id"], "approve")
    h.push(world.sup_h, subject, "person.fullname", "Иванов")
    r = h.push(world.sup_h, subject, "education.attendance", {"days": 3}, expect=403)
    assert r.json()["type"].endswith("/no-relation")
    # withdrawn: the relation ends with it
    h.act(subject, c["id"], "withdraw")
    h.push(world.sup_h, subject, "person.fullname", "Иванов Иван", expect=403)
    assert [i.value_json for i in _vault_rows(runtime, subject)] == ["Иванов"]

    # a student of the supplier's school: any category
    pupil, _ = h.person(years_ago(15))
    h.relate(world.sup, pupil)
    h.push(world.sup_h, pupil, "education.attendance", {"days": 3})


def test_values_have_per_category_size_limits(world: World, runtime):
    h = world.h
    subject, _ = h.person(years_ago(30))
    h.relate(world.sup, subject)
    big_email = "a" * 65536 + "@example.ru"
    r = h.push(world.sup_h, subject, "contact.email", big_email, expect=413)
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"].endswith("/value-too-large")
    assert problem["category"] == "contact.email" and problem["max_bytes"] < 4096
    h.push(world.sup_h, subject, "person.snils", "1" * 5000, expect=413)
    h.push(world.sup_h, subject, "person.fullname", "Я" * 5000, expect=413)
    assert _vault_rows(runtime, subject) == []

    h.push(world.sup_h, subject, "contact.email", "ivanov@example.ru")
    # documents and achievements may be larger than a name
    diploma = {"title": "Диплом победителя", "scan": "A" * 200_000}
    h.push(world.sup_h, subject, "education.achievements", diploma)

    # a category without a limit of its own gets the default
    r = h.client.put(
        "/api/v1/consent/catalogue",
        json={"categories": [{"key": "test.unlimited", "title": "Без предела"}]},
        headers=h.admin(),
    )
    assert r.status_code == 200, r.text
    h.push(world.sup_h, subject, "test.unlimited", "x" * 1000)
    default = h.push(world.sup_h, subject, "test.unlimited", "x" * 200_000, expect=413).json()
    assert default["max_bytes"] < 200_000
    # and the catalogue takes a limit per category, and shows them all
    r = h.client.put(
        "/api/v1/consent/catalogue",
        json={"categories": [{"key": "test.tiny", "title": "Крошечное", "max_bytes": 8}]},
        headers=h.admin(),
    )
    assert r.status_code == 200, r.text
    h.push(world.sup_h, subject, "test.tiny", "1234")
    h.push(world.sup_h, subject, "test.tiny", "123456789", expect=413)
    limits = {
        c["key"]: c["max_bytes"]
        for c in h.client.get("/api/v1/consent/catalogue", headers=world.op_h).json()["categories"]
    }
    assert limits["test.tiny"] == 8 and limits["contact.email"] == problem["max_bytes"]
    assert limits["test.unlimited"] == default["max_bytes"]
