"""The consent state machine, the age rules and the event chain (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import text

from consent import lifecycle
from consent import repository as repo
from consent.gate import has_active_consent
from consent.ledger import verify_chain
from propusk.db import session_scope, utcnow
from tests.support.consent_world import World, signature, years_ago


def test_adult_request_approve_withdraw(world: World):
    h = world.h
    adult, _ = h.person(years_ago(30))
    c = h.request(world.op_h, world.tpl["id"], adult, categories=["person.fullname"])
    assert c["state"] == "requested" and c["age_rule"] == "adult"

    pending = h.client.get("/api/v1/me/requests", headers=h.person_headers(adult)).json()
    assert [r["id"] for r in pending["requests"]] == [c["id"]]

    given = h.act(adult, c["id"], "approve")
    assert given["state"] == "given"
    assert given["signatures"][0]["role"] == "subject"
    assert given["valid_until"] is not None

    withdrawn = h.act(adult, c["id"], "withdraw")
    assert withdrawn["state"] == "withdrawn"
    # terminal: no further transitions
    h.act(adult, c["id"], "withdraw", expect=409)
    h.act(adult, c["id"], "approve", expect=409)

    detail = h.client.get(f"/api/v1/consents/{c['id']}", headers=h.person_headers(adult)).json()
    assert [e["type"] for e in detail["events"]] == ["requested", "given", "withdrawn"]
    assert [e["seq"] for e in detail["events"]] == [1, 2, 3]
    assert detail["events"][1]["prev_hash"] == detail["events"][0]["hash"]


def test_refuse_is_terminal(world: World):
    h = world.h
    adult, _ = h.person(years_ago(40))
    c = h.request(world.op_h, world.tpl["id"], adult)
    assert h.act(adult, c["id"], "refuse")["state"] == "refused"
    h.act(adult, c["id"], "approve", expect=409)
    h.act(adult, c["id"], "withdraw", expect=409)


def test_under14_needs_a_representative(world: World):
    h = world.h
    parent, (child,) = h.person(years_ago(38), children=(years_ago(10),))
    c = h.request(world.op_h, world.tpl["id"], child)
    assert c["age_rule"] == "under14"
    r = h.act(child, c["id"], "approve", expect=403)  # the child alone: not even shown to sign
    assert r["type"].endswith("/representative-required")
    for act in ("refuse", "withdraw", "suspend"):  # nor refuses or withdraws alone
        assert h.act(child, c["id"], act, expect=403)["type"].endswith("/representative-required")
    stranger, _ = h.person(years_ago(35))
    r = h.act(stranger, c["id"], "approve", expect=403)
    assert r["type"].endswith("not-representative")
    given = h.act(parent, c["id"], "approve")
    assert given["state"] == "given"
    assert [s["role"] for s in given["signatures"]] == ["guardian"]
    # the parent sees it from their cabinet, for the child
    mine = h.client.get(
        "/api/v1/me/consents", params={"subject": str(child)}, headers=h.person_headers(parent)
    )
    assert mine.status_code == 200 and mine.json()["consents"][0]["id"] == c["id"]
    # a stranger cannot look at someone else's child
    r = h.client.get(
        "/api/v1/me/consents", params={"subject": str(child)}, headers=h.person_headers(stranger)
    )
    assert r.status_code == 403


def test_14_to_17_needs_both_signatures(world: World):
    h = world.h
    parent, (teen,) = h.person(years_ago(45), children=(years_ago(15),))
    c = h.request(world.op_h, world.tpl["id"], teen, categories=["person.fullname"])
    assert c["age_rule"] == "14to17"
    part = h.act(teen, c["id"], "approve")
    assert part["state"] == "partially_given"
    h.act(teen, c["id"], "approve", expect=409)  # the same signer twice
    r = h.pull(world.op_h, teen, "person.fullname")
    assert r.status_code == 403 and r.json()["refused"] == {"person.fullname": "consent_pending"}
    full = h.act(parent, c["id"], "approve")
    assert full["state"] == "given"
    assert sorted(s["role"] for s in full["signatures"]) == ["guardian", "subject"]
    assert h.pull(world.op_h, teen, "person.fullname").status_code == 200


def test_adult_signs_alone(world: World):
    h = world.h
    parent, (grown,) = h.person(years_ago(50), children=(years_ago(19),))
    c = h.request(world.op_h, world.tpl["id"], grown)
    r = h.act(parent, c["id"], "approve", expect=403)  # representation ended at 18
    assert r["type"].endswith("/representation-ended")
    assert h.act(grown, c["id"], "approve")["state"] == "given"
    for act in ("withdraw", "suspend"):  # the former representative cannot end it either
        assert h.act(parent, c["id"], act, expect=403)["type"].endswith("/representation-ended")
    r = h.client.get(
        "/api/v1/me/consents", params={"subject": str(grown)}, headers=h.person_headers(parent)
    )
    assert r.status_code == 403 and r.json()["type"].endswith("/representation-ended")
    assert h.act(grown, c["id"], "withdraw")["state"] == "withdrawn"


def test_representative_consent_ends_at_18(world: World, runtime):
    from consent.gate import decide

    h = world.h
    parent, (child,) = h.person(years_ago(40), children=(years_ago(14, days=-30),))
    tpl = h.template(world.op_h, term_days=1830)
    c = h.request(world.op_h, tpl["id"], child, categories=["person.fullname"])
    h.act(parent, c["id"], "approve")
    with session_scope(runtime.sessionmaker) as s:
        from idp import identity

        birth = identity.get_person(s, child).birth_date
        eighteen = utcnow().replace(year=birth.year + 18, month=birth.month, day=birth.day)
        args = dict(
            operator_id=uuid.UUID(world.op["id"]),
            subject_id=child,
            purpose="attestation.online",
            categories=["person.fullname"],
        )
        before = decide(s, **args, now=eighteen - timedelta(days=1))
        after = decide(s, **args, now=eighteen + timedelta(hours=1))
    assert before.outcome == "allowed"
    assert after.refused == {"person.fullname": "representative_authority_ended"}


def test_silence_is_not_consent(world: World, runtime):
    h = world.h
    adult, _ = h.person(years_ago(25))
    tpl = h.template(world.op_h, request_ttl_days=1)
    c = h.request(world.op_h, tpl["id"], adult)
    with session_scope(runtime.sessionmaker) as s:
        n = lifecycle.expire_due(s, utcnow() + timedelta(days=2), subject_id=adult)
    assert n == 1
    h.act(adult, c["id"], "approve", expect=409)
    detail = h.client.get(f"/api/v1/consents/{c['id']}", headers=h.person_headers(adult)).json()
    assert detail["state"] == "expired"
    assert detail["events"][-1]["reason"].startswith("request unanswered")


def test_lapsed_consent_expires_and_starts_destruction(world: World, runtime):
    h = world.h
    adult, _ = h.person(years_ago(25))
    tpl = h.template(world.op_h, term_days=10)
    c = h.request(world.op_h, tpl["id"], adult)
    h.act(adult, c["id"], "approve")
    later = utcnow() + timedelta(days=11)
    ended = []
    undo = lifecycle.on_withdrawal("person.", lambda s, cid, sid, cats: ended.append(cid))
    try:
        with session_scope(runtime.sessionmaker) as s:
            assert lifecycle.expire_due(s, later, subject_id=adult) == 1
    finally:
        undo()
    assert ended == [uuid.UUID(c["id"])]
    with session_scope(runtime.sessionmaker) as s:
        tasks = [
            t
            for t in repo.overdue_destruction(s, (later + timedelta(days=40)).date())
            if str(t.consent_id) == c["id"]
        ]
    assert len(tasks) == 1 and tasks[0].reason == "expired"


def test_suspend_refuses_transfers_at_once(world: World):
    h = world.h
    adult, _ = h.person(years_ago(33))
    c = h.request(world.op_h, world.tpl["id"], adult)
    h.act(adult, c["id"], "approve")
    assert h.pull(world.op_h, adult, "person.fullname").status_code == 200
    assert h.act(adult, c["id"], "suspend")["state"] == "suspended"
    r = h.pull(world.op_h, adult, "person.fullname")
    assert r.status_code == 403 and r.json()["refused"]["person.fullname"] == "consent_suspended"


def test_event_chain_detects_tampering(world: World, runtime):
    import pytest
    from sqlalchemy.exc import DBAPIError

    h = world.h
    adult, _ = h.person(years_ago(30))
    c = h.request(world.op_h, world.tpl["id"], adult)
    h.act(adult, c["id"], "approve")
    h.act(adult, c["id"], "withdraw")
    cid = uuid.UUID(c["id"])
    with session_scope(runtime.sessionmaker) as s:
        assert verify_chain(s, cid)
    pg = runtime.engine.dialect.name == "postgresql"
    key = cid if pg else cid.hex
    forge = text("UPDATE consent_event SET reason = 'forged' WHERE consent_id = :c AND seq = 2")
    # the database refuses to change the log …
    delete = text("DELETE FROM consent_event WHERE consent_id = :c")
    for stmt in (forge, delete):
        with (
            pytest.raises(DBAPIError, match="append-only"),
            session_scope(runtime.sessionmaker) as s,
        ):
            s.execute(stmt, {"c": key})
    # … and a change made behind its back (triggers bypassed) breaks the chain
    with session_scope(runtime.sessionmaker) as s:
        if pg:
            s.execute(text("SET LOCAL session_replication_role = replica"))
            s.execute(forge, {"c": key})
        else:
            s.execute(text("DROP TRIGGER consent_event_no_update"))
            s.execute(forge, {"c": key})
            s.execute(
                text(
                    "CREATE TRIGGER consent_event_no_update BEFORE UPDATE ON consent_event "
                    "BEGIN SELECT RAISE(ABORT, 'consent_event is append-only'); END"
                )
            )
    with session_scope(runtime.sessionmaker) as s:
        assert not verify_chain(s, cid)


def test_feed_and_destruction_clock(world: World, runtime):
    from consent import deadlines

    h = world.h
    adult, _ = h.person(years_ago(30))
    start = h.client.get("/api/v1/consent/feed", headers=world.op_h).json()["next"]
    c = h.request(world.op_h, world.tpl["id"], adult)
    h.act(adult, c["id"], "approve")
    h.act(adult, c["id"], "withdraw")
    feed = h.client.get("/api/v1/consent/feed", params={"since": start}, headers=world.op_h).json()
    mine = [e for e in feed["events"] if e["consent_id"] == c["id"]]
    assert [e["type"] for e in mine] == ["requested", "given", "withdrawn"]
    again = h.client.get(
        "/api/v1/consent/feed", params={"since": feed["next"]}, headers=world.op_h
    ).json()
    assert all(e["consent_id"] != c["id"] for e in again["events"])
    # another operator does not see these events
    other = h.org_client(h.organization("operator")["id"], "operator")
    theirs = h.client.get("/api/v1/consent/feed", params={"since": start}, headers=other).json()
    assert all(e["consent_id"] != c["id"] for e in theirs["events"])

    tasks = h.client.get("/api/v1/consent/destruction", headers=world.op_h).json()["tasks"]
    task = next(t for t in tasks if t["consent_id"] == c["id"])
    withdrawn_at = next(e for e in mine if e["type"] == "withdrawn")["at"]
    from datetime import datetime

    expected = deadlines.receipt_date(datetime.fromisoformat(withdrawn_at)) + timedelta(days=30)
    assert task["due_date"] == expected.isoformat()
    with session_scope(runtime.sessionmaker) as s:
        late = [t for t in repo.overdue_destruction(s, expected + timedelta(days=1))]
        assert task["id"] in {str(t.id) for t in late}
    r = h.client.post(f"/api/v1/destruction/{task['id']}/confirm", headers=other)
    assert r.status_code == 404  # not theirs
    r = h.client.post(f"/api/v1/destruction/{task['id']}/confirm", headers=world.op_h)
    assert r.status_code == 200 and r.json()["confirmed_at"]
    assert (
        h.client.post(f"/api/v1/destruction/{task['id']}/confirm", headers=world.op_h).status_code
        == 409
    )
    with session_scope(runtime.sessionmaker) as s:
        assert task["id"] not in {
            str(t.id) for t in repo.overdue_destruction(s, expected + timedelta(1))
        }


def test_withdrawal_hook_and_has_active_consent(world: World, runtime):
    h = world.h
    adult, _ = h.person(years_ago(30))
    tpl = h.template(
        world.op_h,
        key="bio.consent",
        purpose="biometric.identification",
        categories=["biometric.face_template"],
        form="written",
    )
    c = h.request(world.op_h, tpl["id"], adult)
    with session_scope(runtime.sessionmaker) as s:
        assert has_active_consent(s, adult, "biometric.face_template") is None
    h.act(adult, c["id"], "approve")
    with session_scope(runtime.sessionmaker) as s:
        ref = has_active_consent(s, adult, "biometric.face_template", "biometric.identification")
        assert ref is not None and str(ref.id) == c["id"] and ref.form == "written"
        assert has_active_consent(s, adult, "biometric.face_template", "other") is None
    calls = []
    undo = lifecycle.on_withdrawal(
        "biometric.", lambda s, cid, sid, cats: calls.append((cid, sid, cats))
    )
    try:
        h.act(adult, c["id"], "withdraw")
    finally:
        undo()
    assert calls == [(uuid.UUID(c["id"]), adult, ["biometric.face_template"])]
    with session_scope(runtime.sessionmaker) as s:
        assert has_active_consent(s, adult, "biometric.face_template") is None


def test_operator_revokes_its_consent(world: World):
    h = world.h
    adult, _ = h.person(years_ago(30))
    c = h.request(world.op_h, world.tpl["id"], adult)
    h.act(adult, c["id"], "approve")
    other = h.org_client(h.organization("operator")["id"], "operator")
    url = f"/api/v1/consent/requests/{c['id']}/revoke"
    assert h.client.post(url, json={"reason": "x"}, headers=other).status_code == 404
    assert h.client.post(url, json={}, headers=world.op_h).status_code == 422
    r = h.client.post(url, json={"reason": "contract ended"}, headers=world.op_h)
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    assert h.client.post(url, json={"reason": "again"}, headers=world.op_h).status_code == 409
    r = h.pull(world.op_h, adult, "person.fullname")
    assert r.json()["refused"] == {"person.fullname": "consent_revoked"}
    tasks = h.client.get("/api/v1/consent/destruction", headers=world.op_h).json()["tasks"]
    assert any(t["consent_id"] == c["id"] and t["reason"] == "revoked" for t in tasks)


def test_coming_of_age_between_signatures(world: World, runtime):
    """A 17-year-old signs, turns 18 before the parent does: the parent may no longer sign,
    and the now-adult subject's confirmation completes the consent."""
    from propusk.errors import Conflict, Forbidden

    h = world.h
    parent, (teen,) = h.person(years_ago(45), children=(years_ago(17, days=200),))
    tpl = h.template(world.op_h, request_ttl_days=365)
    c = h.request(world.op_h, tpl["id"], teen)
    cid = uuid.UUID(c["id"])
    h.act(teen, c["id"], "approve")
    from idp import identity

    with session_scope(runtime.sessionmaker) as s:
        birth = identity.get_person(s, teen).birth_date
    adult_on = utcnow().replace(year=birth.year + 18, month=birth.month, day=birth.day)
    later = adult_on + timedelta(days=2)

    def refused_with(person, at):
        try:
            with session_scope(runtime.sessionmaker) as s:
                lifecycle.approve(s, cid, person, now=at, signature=signature())
        except (Conflict, Forbidden) as exc:
            return type(exc)
        return None

    assert refused_with(parent, later) is Forbidden
    assert refused_with(teen, adult_on - timedelta(days=2)) is Conflict  # still 17
    with session_scope(runtime.sessionmaker) as s:
        done = lifecycle.approve(s, cid, teen, now=later, signature=signature())
        assert done.state == "given" and done.representative_until is None
        assert [x["role"] for x in done.signatures] == ["subject"]
