"""A participant's transfer history carries, per entry, the inclusion proof of its
``gate.decision`` event: checked here with independent RFC 6962 math against the signed
checkpoint, whose signature is checked with the published key."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.support.consent_world import World, years_ago


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def root_from_inclusion(index: int, size: int, leaf_hash: bytes, path: list[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2, written out independently of ``audit.merkle``."""
    assert 0 <= index < size
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        assert sn != 0, "proof too long"
        if fn & 1 or fn == sn:
            r = _h(b"\x01" + p + r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _h(b"\x01" + r + p)
        fn, sn = fn >> 1, sn >> 1
    assert sn == 0, "proof too short"
    return r


def check_note(note: str, vkey: str) -> tuple[int, bytes]:
    """Open a C2SP signed note with the published verifier key: (tree size, root)."""
    name, key_hex, key_b64 = vkey.split("+", 2)
    public_raw = base64.b64decode(key_b64)[1:]
    body, signatures = note.split("\n\n", 1)
    line = next(x for x in signatures.splitlines() if x.startswith("\u2014 " + name + " "))
    blob = base64.b64decode(line.rsplit(" ", 1)[1])
    assert blob[:4].hex() == key_hex
    Ed25519PublicKey.from_public_bytes(public_raw).verify(blob[4:], (body + "\n").encode())
    _origin, size, root = body.split("\n")[:3]
    return int(size), base64.b64decode(root)


def test_history_entries_carry_verifiable_inclusion_proofs(world: World):
    h = world.h
    subject, _ = h.person(years_ago(30))
    consent = h.request(world.op_h, world.tpl["id"], subject)
    h.act(subject, consent["id"], "approve")
    assert h.pull(world.op_h, subject, "person.fullname").status_code == 200
    h.act(subject, consent["id"], "withdraw")
    assert h.pull(world.op_h, subject, "person.fullname").status_code == 403

    r = h.client.get("/api/v1/me/transfers", headers=h.person_headers(subject))
    assert r.status_code == 200, r.text
    entries = r.json()["transfers"]
    assert [e["decision"] for e in entries] == ["refused", "allowed"]
    vkey = h.client.get("/api/v1/audit/key").text.strip()
    for entry in entries:
        proof = entry["audit"]
        assert proof["pending"] is False
        uuid.UUID(proof["event_id"])
        leaf = json.loads(proof["leaf"])
        assert leaf["id"] == proof["event_id"] and leaf["index"] == proof["index"]
        assert leaf["type"] == "gate.decision" and leaf["subject"] == f"person:{subject}"
        assert leaf["body"]["transfer_id"] == entry["id"]
        assert leaf["body"]["decision"] == entry["decision"]
        leaf_hash = _h(b"\x00" + proof["leaf"].encode())
        assert base64.b64decode(proof["leaf_hash"]) == leaf_hash
        path = [base64.b64decode(x) for x in proof["hashes"]]
        root = root_from_inclusion(proof["index"], proof["tree_size"], leaf_hash, path)
        assert root == base64.b64decode(proof["root_hash"])
        assert check_note(proof["checkpoint"], vkey) == (proof["tree_size"], root)


def test_a_tampered_proof_does_not_verify(world: World):
    h = world.h
    subject, _ = h.person(years_ago(30))
    consent = h.request(world.op_h, world.tpl["id"], subject)
    h.act(subject, consent["id"], "approve")
    assert h.pull(world.op_h, subject, "person.fullname").status_code == 200
    (entry,) = h.client.get("/api/v1/me/transfers", headers=h.person_headers(subject)).json()[
        "transfers"
    ]
    proof = entry["audit"]
    forged = proof["leaf"].replace('"allowed"', '"refused"', 1).encode()
    leaf_hash = _h(b"\x00" + forged)
    path = [base64.b64decode(x) for x in proof["hashes"]]
    assert root_from_inclusion(proof["index"], proof["tree_size"], leaf_hash, path) != (
        base64.b64decode(proof["root_hash"])
    )
