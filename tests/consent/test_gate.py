"""The transfer gate through the operator and supplier APIs: minimisation, every refusal
reason, tickets, receipts checked against the JWKS, encryption at rest, bad input."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from consent import gate, parties
from consent.models import Transfer, VaultItem
from idp.models import Organization
from propusk.db import session_scope, utcnow
from tests.support.consent_world import World, years_ago


def _given(world: World, categories=None, tpl=None, age=30):
    h = world.h
    subject, _ = h.person(years_ago(age))
    extra = {"categories": categories} if categories else {}
    c = h.request(world.op_h, (tpl or world.tpl)["id"], subject, **extra)
    h.act(subject, c["id"], "approve")
    return subject, c


def _push(world: World, subject, category, value):
    world.h.relate(world.sup, subject)  # the supplier is the subject's school
    world.h.push(world.sup_h, subject, category, value)


def _transfers(runtime, subject) -> list[Transfer]:
    with session_scope(runtime.sessionmaker) as s:
        return list(s.scalars(select(Transfer).where(Transfer.subject_id == subject)))


def test_pull_returns_only_what_the_consent_covers(world: World, runtime):
    h = world.h
    subject, c = _given(world, categories=["person.fullname", "person.snils"])
    _push(world, subject, "person.fullname", {"last": "Иванов", "first": "Иван"})
    _push(world, subject, "person.snils", "112-233-445 95")
    _push(world, subject, "education.grades", [{"subject": "math", "grade": 5}])
    r = h.pull(world.op_h, subject, "person.fullname,education.grades,person.snils")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["decision"] == "partial"
    assert set(body["data"]) == {"person.fullname", "person.snils"}
    assert body["data"]["person.snils"] == "112-233-445 95"
    assert body["refused"] == {"education.grades": "category_not_covered"}
    assert body["consent_ids"] == [c["id"]]
    (t,) = _transfers(runtime, subject)
    assert t.decision == "partial" and t.consent_ids == [c["id"]]
    assert t.allowed == ["person.fullname", "person.snils"]
    assert t.legal_basis.startswith("consent")


def test_special_categories_are_encrypted_at_rest(world: World, runtime):
    subject, _ = _given(world, categories=["person.snils"])
    _push(world, subject, "person.snils", "112-233-445 95")
    _push(world, subject, "person.fullname", "Иванов Иван")
    with session_scope(runtime.sessionmaker) as s:
        rows = {
            i.category_key: i
            for i in s.scalars(select(VaultItem).where(VaultItem.subject_id == subject))
        }
    snils = rows["person.snils"]
    assert snils.value_json is None and b"445" not in snils.value_enc
    assert rows["person.fullname"].value_json == "Иванов Иван"
    me = world.h.client.get("/api/v1/me/data", headers=world.h.person_headers(subject)).json()
    assert {d["category"]: d["value"] for d in me["data"]}["person.snils"] == "112-233-445 95"


def test_withdrawal_applies_to_the_very_next_request(world: World, runtime):
    h = world.h
    subject, c = _given(world)
    assert h.pull(world.op_h, subject, "person.fullname").status_code == 200
    h.act(subject, c["id"], "withdraw")
    r = h.pull(world.op_h, subject, "person.fullname")
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["refused"] == {"person.fullname": "consent_withdrawn"}
    decisions = [t.decision for t in sorted(_transfers(runtime, subject), key=lambda t: t.at)]
    assert decisions == ["allowed", "refused"]  # the refusal is recorded too
    hist = h.client.get("/api/v1/me/transfers", headers=h.person_headers(subject)).json()
    assert [t["decision"] for t in hist["transfers"]] == ["refused", "allowed"]


def test_refusal_reasons(world: World, runtime):
    h = world.h
    subject, _ = _given(world, categories=["person.fullname"])
    op = uuid.UUID(world.op["id"])
    now = utcnow()

    def reason(categories, purpose="attestation.online", operator=op, at=now):
        with session_scope(runtime.sessionmaker) as s:
            d = gate.decide(
                s,
                operator_id=operator,
                subject_id=subject,
                purpose=purpose,
                categories=categories,
                now=at,
            )
        return d.refused

    assert reason(["person.fullname"]) == {}
    assert reason(["education.grades"]) == {"education.grades": "category_not_covered"}
    assert reason(["person.fullname"], purpose="olympiad.registration") == {
        "person.fullname": "no_consent"
    }
    assert reason(["no.such"]) == {"no.such": "unknown_category"}
    assert reason(["person.fullname"], operator=uuid.uuid4()) == {
        "person.fullname": "operator_unknown"
    }
    supplier = uuid.UUID(world.sup["id"])
    assert reason(["person.fullname"], operator=supplier) == {"person.fullname": "operator_unknown"}
    assert reason(["person.fullname"], at=now + timedelta(days=366)) == {
        "person.fullname": "consent_expired"
    }
    assert reason(["person.fullname"], at=now - timedelta(days=1)) == {
        "person.fullname": "consent_not_yet_valid"
    }
    # another operator never benefits from this consent
    other = h.organization("operator")
    assert reason(["person.fullname"], operator=uuid.UUID(other["id"])) == {
        "person.fullname": "no_consent"
    }
    # refused, pending and no-transfer-action consents
    s2, _ = h.person(years_ago(30))
    c2 = h.request(world.op_h, world.tpl["id"], s2)
    r = h.pull(world.op_h, s2, "person.fullname")
    assert r.json()["refused"] == {"person.fullname": "consent_pending"}
    h.act(s2, c2["id"], "refuse")
    assert h.pull(world.op_h, s2, "person.fullname").json()["refused"] == {
        "person.fullname": "consent_refused"
    }
    tpl = h.template(world.op_h, key="store.only", actions=["сбор", "хранение"])
    s3, _ = _given(world, tpl=tpl)
    assert h.pull(world.op_h, s3, "person.fullname").json()["refused"] == {
        "person.fullname": "transfer_not_permitted"
    }


def test_written_form_is_required_for_special_data(world: World, runtime):
    """Defence in depth: even a consent row of form 'any' never releases special data."""
    from consent.models import Consent

    h = world.h
    tpl = h.template(
        world.op_h, key="health.consent", categories=["health.disability"], form="written"
    )
    subject, c = _given(world, tpl=tpl)
    assert h.pull(world.op_h, subject, "health.disability").status_code == 200
    with session_scope(runtime.sessionmaker) as s:
        s.get(Consent, uuid.UUID(c["id"])).form = "any"
    r = h.pull(world.op_h, subject, "health.disability")
    assert r.json()["refused"] == {"health.disability": "written_form_required"}


def test_bad_input_is_4xx_and_writes_nothing(world: World, runtime):
    h = world.h
    subject, _ = _given(world)
    before = len(_transfers(runtime, subject))
    for params in (
        {"purpose": "attestation.online", "categories": "person.fullname,no.such"},
        {"purpose": "no.such.purpose", "categories": "person.fullname"},
        {"purpose": "attestation.online", "categories": ",,"},
        {"purpose": "attestation.online"},
    ):
        r = h.client.get(f"/api/v1/subjects/{subject}/data", params=params, headers=world.op_h)
        assert r.status_code == 422, (params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    r = h.client.get(
        "/api/v1/subjects/not-a-uuid/data",
        params={"purpose": "attestation.online", "categories": "person.fullname"},
        headers=world.op_h,
    )
    assert r.status_code == 422
    assert len(_transfers(runtime, subject)) == before
    # anonymous and the wrong kind of caller
    assert h.pull({}, subject, "person.fullname").status_code == 401
    assert h.pull(world.sup_h, subject, "person.fullname").status_code == 403
    assert h.pull(h.person_headers(subject), subject, "person.fullname").status_code == 403
    # supplier pushes: unknown category, unknown subject, malformed body
    r = h.client.put(
        f"/api/v1/subjects/{subject}/data/no.such", json={"value": 1}, headers=world.sup_h
    )
    assert r.status_code == 422
    r = h.client.put(
        f"/api/v1/subjects/{uuid.uuid4()}/data/person.fullname",
        json={"value": 1},
        headers=world.sup_h,
    )
    assert r.status_code == 404
    r = h.client.put(
        f"/api/v1/subjects/{subject}/data/person.fullname", json={"val": 1}, headers=world.sup_h
    )
    assert r.status_code == 422
    r = h.client.put(
        f"/api/v1/subjects/{subject}/data/person.fullname",
        content=b"{not json",
        headers={**world.sup_h, "content-type": "application/json"},
    )
    assert r.status_code == 422


def test_consent_request_bad_input(world: World):
    h = world.h
    subject, _ = h.person(years_ago(30))
    base = {"template_id": world.tpl["id"], "subject_id": str(subject)}
    cases = [
        (
            {**base, "categories": ["person.fullname", "health.disability"]},
            422,
            "categories-superset",
        ),
        ({**base, "categories": ["no.such"]}, 422, "unknown-category"),
        ({**base, "purpose": "olympiad.registration"}, 422, "wrong-purpose"),
        ({**base, "subject_id": str(uuid.uuid4())}, 404, "unknown-subject"),
        ({**base, "template_id": str(uuid.uuid4())}, 404, "unknown-template"),
        ({**base, "extra": 1}, 422, "validation-error"),
        ({"subject_id": str(subject)}, 422, "validation-error"),
    ]
    for body, status, kind in cases:
        r = h.client.post("/api/v1/consent/requests", json=body, headers=world.op_h)
        assert r.status_code == status, (body, r.text)
        assert r.json()["type"].endswith(kind), r.json()
    expired = h.template(
        world.op_h, key="old.consent", valid_until=(utcnow() - timedelta(days=1)).isoformat()
    )
    r = h.client.post(
        "/api/v1/consent/requests", json={**base, "template_id": expired["id"]}, headers=world.op_h
    )
    assert r.status_code == 422 and r.json()["type"].endswith("template-expired")
    # another operator cannot use this operator's template
    other = h.org_client(h.organization("operator")["id"], "operator")
    r = h.client.post("/api/v1/consent/requests", json=base, headers=other)
    assert r.status_code == 404
    mine = h.client.get("/api/v1/me/requests", headers=h.person_headers(subject)).json()
    assert mine["requests"] == []  # nothing half-written


def test_template_rules(world: World):
    h = world.h
    r = h.client.post(
        "/api/v1/consent/templates",
        json=h.template_body(withdrawal_method="", term_days=0),
        headers=world.op_h,
    )
    assert r.status_code == 422 and set(r.json()["missing"]) == {"withdrawal_method", "term_days"}
    r = h.client.post(
        "/api/v1/consent/templates",
        json=h.template_body(
            key="bio.x", categories=["biometric.face_template"], purpose="biometric.identification"
        ),
        headers=world.op_h,
    )
    assert r.status_code == 422 and r.json()["type"].endswith("written-form-required")
    r = h.client.post(
        "/api/v1/consent/templates", json=h.template_body(actions=["продажа"]), headers=world.op_h
    )
    assert r.status_code == 422
    r = h.client.post(
        "/api/v1/consent/templates", json=h.template_body(purpose="nope.nope"), headers=world.op_h
    )
    assert r.status_code == 422 and r.json()["type"].endswith("unknown-purpose")
    v2 = h.template(world.op_h)
    assert v2["version"] == world.tpl["version"] + 1
    assert len(v2["text_hash"]) == 64
    r = h.client.post("/api/v1/consent/templates", json=h.template_body(), headers=world.sup_h)
    assert r.status_code == 403


def test_ticket_issue_and_redeem(world: World, runtime):
    h = world.h
    subject, c = _given(world, categories=["person.fullname", "education.grades"])
    body = {
        "operator_id": world.op["id"],
        "subject_id": str(subject),
        "purpose": "attestation.online",
        "categories": ["person.fullname", "education.grades", "person.snils"],
    }
    r = h.client.post("/api/v1/transfers/tickets", json=body, headers=world.sup_h)
    assert r.status_code == 200, r.text
    issued = r.json()
    assert issued["allowed"] == ["person.fullname", "education.grades"]
    assert issued["refused"] == {"person.snils": "category_not_covered"}
    ticket = issued["ticket"]
    # only the named operator may redeem
    other = h.org_client(h.organization("operator")["id"], "operator")
    assert (
        h.client.post(
            "/api/v1/transfers/redeem", json={"ticket": ticket}, headers=other
        ).status_code
        == 403
    )
    r = h.client.post("/api/v1/transfers/redeem", json={"ticket": ticket}, headers=world.op_h)
    assert r.status_code == 200, r.text
    assert r.json()["consent_ids"] == [c["id"]]
    assert (
        h.client.post(
            "/api/v1/transfers/redeem", json={"ticket": ticket}, headers=world.op_h
        ).status_code
        == 409
    )
    forged = ticket[:-4] + ("AAAA" if not ticket.endswith("AAAA") else "BBBB")
    assert (
        h.client.post(
            "/api/v1/transfers/redeem", json={"ticket": forged}, headers=world.op_h
        ).status_code
        == 400
    )
    assert (
        h.client.post(
            "/api/v1/transfers/redeem", json={"ticket": "x" * 20}, headers=world.op_h
        ).status_code
        == 400
    )
    # issued, then withdrawn, then presented: the withdrawal wins
    second = h.client.post("/api/v1/transfers/tickets", json=body, headers=world.sup_h).json()
    h.act(subject, c["id"], "withdraw")
    r = h.client.post(
        "/api/v1/transfers/redeem", json={"ticket": second["ticket"]}, headers=world.op_h
    )
    assert r.status_code == 403
    assert r.json()["refused"]["person.fullname"] == "consent_withdrawn"
    r = h.client.post("/api/v1/transfers/tickets", json=body, headers=world.sup_h)
    assert r.status_code == 403 and "ticket" not in r.json()
    channels = sorted(t.channel for t in _transfers(runtime, subject))
    assert channels == ["redeem", "redeem", "ticket", "ticket", "ticket"]


def test_receipts_verify_with_the_jwks(world: World):
    from tests.idp.oidc.helpers import verify_with_jwks

    h = world.h
    subject, c = _given(world)
    r = h.client.get(f"/api/v1/consents/{c['id']}/receipt", headers=h.person_headers(subject))
    assert r.status_code == 200, r.text
    token = r.json()["receipt"]
    jwks = h.client.get("/jwks.json").json()
    import json

    claims = json.loads(verify_with_jwks(token, jwks, ["ES256", "RS256"]))
    assert claims["consent_id"] == c["id"] and claims["event"] == "given"
    assert claims["sub"] == str(subject) and claims["signers"][0]["role"] == "subject"
    h.act(subject, c["id"], "withdraw")
    token = h.client.get(
        f"/api/v1/consents/{c['id']}/receipt", headers=h.person_headers(subject)
    ).json()["receipt"]
    claims = json.loads(verify_with_jwks(token, jwks, ["ES256", "RS256"]))
    assert claims["event"] == "withdrawn" and claims["state"] == "withdrawn"
    first = h.client.get(
        f"/api/v1/consents/{c['id']}/receipt",
        params={"event": "given"},
        headers=h.person_headers(subject),
    ).json()["receipt"]
    assert json.loads(verify_with_jwks(first, jwks, ["ES256"]))["event"] == "given"
    # a receipt is the subject's: a stranger gets 403
    stranger, _ = h.person(years_ago(30))
    r = h.client.get(f"/api/v1/consents/{c['id']}/receipt", headers=h.person_headers(stranger))
    assert r.status_code == 403


def test_organisation_registry_rules(harness):
    from tests.support.consent_world import org_fields

    h = harness
    good = org_fields()
    r = h.client.post(
        "/api/v1/organizations", json={**good, "storage_country": "DE"}, headers=h.admin()
    )
    assert r.status_code == 422 and r.json()["type"].endswith("storage-outside-russia")
    bad_inn = good["inn"][:-1] + str((int(good["inn"][-1]) + 1) % 10)
    r = h.client.post("/api/v1/organizations", json={**good, "inn": bad_inn}, headers=h.admin())
    assert r.status_code == 422 and r.json()["type"].endswith("invalid-inn")
    bad_ogrn = good["ogrn"][:-1] + str((int(good["ogrn"][-1]) + 1) % 10)
    r = h.client.post("/api/v1/organizations", json={**good, "ogrn": bad_ogrn}, headers=h.admin())
    assert r.status_code == 422 and r.json()["type"].endswith("invalid-ogrn")
    r = h.client.post("/api/v1/organizations", json={**good, "kind": "broker"}, headers=h.admin())
    assert r.status_code == 422
    org = h.client.post("/api/v1/organizations", json=good, headers=h.admin())
    assert org.status_code == 201
    assert h.client.post("/api/v1/organizations", json=good, headers=h.admin()).status_code == 409
    r = h.client.post(
        "/api/v1/organizations", json=good, headers=h.org_client(org.json()["id"], "operator")
    )
    assert r.status_code == 403
    with session_scope(h.runtime.sessionmaker) as s:
        assert s.scalar(select(func.count()).where(Organization.ogrn == good["ogrn"])) == 1
        assert parties.get(s, uuid.UUID(org.json()["id"])).ogrn == good["ogrn"]


def test_known_inn_and_ogrn_check_digits():
    from propusk.validators import inn_valid, ogrn_valid

    assert inn_valid("7707083893") and not inn_valid("7707083894")  # ПАО Сбербанк
    assert inn_valid("500100732259") and not inn_valid("500100732258")  # an individual
    assert ogrn_valid("1027700132195") and not ogrn_valid("1027700132196")
    assert ogrn_valid("304500116000157") and not ogrn_valid("304500116000158")  # ОГРНИП


def test_cross_border_recipient_needs_the_rkn_notice(harness):
    """Art. 12: a recipient abroad (storage still in Russia) only with the notice on file."""
    h = harness
    results = {}
    for notice in (None, "РКН-уведомление № 123/2026"):
        op = h.organization("operator", country="BY", cross_border_notice_ref=notice)
        assert op["country"] == "BY"
        op_h = h.org_client(op["id"], "operator")
        tpl = h.template(op_h)
        subject, _ = h.person(years_ago(30))
        c = h.request(op_h, tpl["id"], subject, categories=["person.fullname"])
        h.act(subject, c["id"], "approve")
        r = h.pull(op_h, subject, "person.fullname")
        results[notice is not None] = (r.status_code, r.json().get("refused"))
    assert results[False] == (403, {"person.fullname": "cross_border_not_notified"})
    assert results[True] == (200, {})
