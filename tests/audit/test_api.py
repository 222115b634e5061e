"""The audit HTTP API: public checkpoint and key, proofs and events behind policies."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from audit import checkpoint, merkle, service
from propusk.app import create_app
from propusk.db import session_scope
from propusk.runtime import Runtime, build_runtime
from propusk.security import Principal, RoleGrant
from tests.support.settings import make_settings

ADMIN = Principal(
    kind="platform_admin",
    subject="person:test",
    roles=(RoleGrant("platform_admin", "*"),),
    channel="session",
)


@pytest.fixture
def rt(db_url) -> Iterator[Runtime]:
    runtime = build_runtime(make_settings(db_url, audit_checkpoint_every=0))
    yield runtime
    runtime.dispose()


@pytest.fixture
def api(rt) -> Iterator[httpx.Client]:
    app = create_app(runtime=rt)
    app.state.principal_resolver = lambda request, session: ADMIN
    with TestClient(app, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def anonymous(rt) -> Iterator[httpx.Client]:
    with TestClient(create_app(runtime=rt), base_url="http://testserver") as c:
        yield c


def record(rt: Runtime, n: int) -> list[service.Event]:
    subject = f"person:{uuid.uuid4()}"
    with session_scope(rt.sessionmaker) as s:
        return [
            service.record(s, "gate.decision", actor="client:op", subject=subject, body={"i": i})
            for i in range(n)
        ]


def verifier(client: httpx.Client) -> checkpoint.Verifier:
    r = client.get("/api/v1/audit/key")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return checkpoint.parse_vkey(r.text)


def latest(client: httpx.Client, covering: int = 0) -> checkpoint.Checkpoint:
    """The public checkpoint, once the app's sequencer thread has signed one of at least
    ``covering`` leaves (the GET signs nothing; ``rt`` signs on every growth): polled."""
    for _ in range(1000):
        r = client.get("/api/v1/audit/checkpoint")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        cp = checkpoint.open_note(r.text, verifier(client))
        if cp.size >= covering:
            return cp
        time.sleep(0.01)
    raise AssertionError(f"no checkpoint covering {covering} leaves was signed")


def test_public_checkpoint_is_signed_by_the_sequencer_and_covers_new_events(rt, anonymous):
    events = record(rt, 3)
    cp = latest(anonymous, covering=events[-1].index + 1)
    # signed by whichever app process on this database was due (live servers of other tests
    # share it, with their own issuers): the origin names an issuer's log
    assert cp.origin.endswith("/propusk/audit")
    assert cp.time is not None


def test_inclusion_and_event_proofs_verify_against_the_checkpoint(rt, api):
    events = record(rt, 5)
    cp = latest(api, covering=events[-1].index + 1)
    for ev in (events[0], events[3]):
        r = api.get("/api/v1/audit/proofs/inclusion", params={"index": ev.index})
        assert r.status_code == 200, r.text
        data = r.json()
        assert data["tree_size"] == cp.size
        assert base64.b64decode(data["root_hash"]) == cp.root
        proof = [base64.b64decode(h) for h in data["hashes"]]
        assert merkle.verify_inclusion(ev.index, cp.size, ev.leaf_hash, proof, cp.root)

        r = api.get(f"/api/v1/audit/events/{ev.index}")
        assert r.status_code == 200, r.text
        event = r.json()
        assert event["body"] == {"i": ev.body["i"]} and event["type"] == "gate.decision"
        leaf = merkle.leaf_hash(event["leaf"].encode())
        assert base64.b64decode(event["leaf_hash"]) == leaf
        signed = checkpoint.open_note(event["checkpoint"], verifier(api))
        proof = [base64.b64decode(h) for h in event["hashes"]]
        assert merkle.verify_inclusion(ev.index, signed.size, leaf, proof, signed.root)


def test_consistency_between_two_checkpoints(rt, api):
    old = latest(api, covering=record(rt, 2)[-1].index + 1)
    new = latest(api, covering=record(rt, 3)[-1].index + 1)
    assert new.size == old.size + 3
    r = api.get("/api/v1/audit/proofs/consistency", params={"first": old.size, "second": new.size})
    assert r.status_code == 200, r.text
    proof = [base64.b64decode(h) for h in r.json()["hashes"]]
    assert merkle.verify_consistency(old.size, new.size, old.root, new.root, proof)
    assert not merkle.verify_consistency(old.size, new.size, new.root, old.root, proof)


def test_inclusion_proof_for_helper(rt):
    ev = record(rt, 1)[0]
    with session_scope(rt.sessionmaker) as s:
        by_index = service.inclusion_proof_for(s, ev.index, rt.settings)
        by_id = service.inclusion_proof_for(s, ev.id, rt.settings)
    assert by_index == by_id
    root = base64.b64decode(by_id["root_hash"])
    proof = [base64.b64decode(h) for h in by_id["hashes"]]
    assert merkle.verify_inclusion(ev.index, by_id["tree_size"], ev.leaf_hash, proof, root)


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/api/v1/audit/proofs/inclusion", {"index": -1}, 422),
        ("/api/v1/audit/proofs/inclusion", {"index": "x"}, 422),
        ("/api/v1/audit/proofs/inclusion", {"index": 0, "tree_size": 10**9}, 400),
        ("/api/v1/audit/proofs/inclusion", {"index": 0, "tree_size": 0}, 422),
        ("/api/v1/audit/proofs/inclusion", {"index": 10**9}, 400),
        ("/api/v1/audit/proofs/inclusion", {"index": 2, "tree_size": 2}, 400),
        ("/api/v1/audit/proofs/inclusion", {"index": 10**30}, 422),
        ("/api/v1/audit/proofs/consistency", {"first": 0, "second": 2}, 422),
        ("/api/v1/audit/proofs/consistency", {"first": 3, "second": 2}, 400),
        ("/api/v1/audit/proofs/consistency", {"first": 1, "second": 10**9}, 400),
        ("/api/v1/audit/proofs/consistency", {"first": 1}, 422),
        ("/api/v1/audit/events/-1", {}, 422),
        ("/api/v1/audit/events/1000000000", {}, 404),
    ],
)
def test_bad_proof_requests_are_4xx(rt, api, path, params, status):
    record(rt, 3)
    r = api.get(path, params=params)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def test_proofs_need_an_authenticated_caller(rt, anonymous):
    record(rt, 1)
    assert anonymous.get("/api/v1/audit/proofs/inclusion", params={"index": 0}).status_code == 401
    assert anonymous.get("/api/v1/audit/events/0").status_code == 401


def test_proofs_for_a_history_share_one_checkpoint(rt):
    events = record(rt, 4)
    with session_scope(rt.sessionmaker) as s:
        proofs = service.inclusion_proofs_for(s, [e.id for e in events], rt.settings)
        history = service.events_for_subject(s, events[0].subject)
        vk = checkpoint.verifier_key(s, rt.settings)
    assert [e.index for e in history] == [e.index for e in events]
    assert len({p["checkpoint"] for p in proofs}) == 1
    signed = checkpoint.open_note(proofs[0]["checkpoint"], checkpoint.parse_vkey(vk))
    for ev, p in zip(events, proofs, strict=True):
        leaf = merkle.leaf_hash(p["leaf"].encode())
        assert leaf == ev.leaf_hash
        hashes = [base64.b64decode(h) for h in p["hashes"]]
        assert merkle.verify_inclusion(ev.index, signed.size, leaf, hashes, signed.root)
    with pytest.raises(service.NotFound), session_scope(rt.sessionmaker) as s:
        service.inclusion_proofs_for(s, [uuid.uuid4()], rt.settings)
