"""C2SP signed notes and checkpoints: the Go reference vector (golang.org/x/mod/sumdb/note) and
our checkpoints checked by an independent re-implementation of the key id and signature."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit import checkpoint, service
from audit.checkpoint import NoteError
from propusk.db import session_scope
from propusk.runtime import build_runtime
from tests.support.settings import make_settings

GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def go_private() -> Ed25519PrivateKey:
    seed = base64.b64decode(GO_SKEY.split("+", 4)[4])
    assert seed[0] == 1
    return Ed25519PrivateKey.from_private_bytes(seed[1:])


def test_go_reference_note_is_reproduced_byte_for_byte():
    private = go_private()
    assert checkpoint.vkey("PeterNeumann", private.public_key().public_bytes_raw()) == GO_VKEY
    assert checkpoint.sign_note(GO_TEXT, "PeterNeumann", private) == GO_NOTE


def test_go_reference_note_opens_and_mangled_ones_do_not():
    verifier = checkpoint.parse_vkey(GO_VKEY)
    with pytest.raises(NoteError):  # not a checkpoint body, but the signature verified first
        checkpoint.open_note(GO_NOTE, verifier)
    with pytest.raises(NoteError, match="does not verify"):
        checkpoint.open_note(GO_NOTE.replace("cryptography", "cryptographY"), verifier)
    with pytest.raises(NoteError):
        checkpoint.parse_vkey(GO_VKEY.replace("c74f20a3", "c74f20a4"))


def test_service_checkpoint_verifies_independently(db_url):
    rt = build_runtime(make_settings(db_url, issuer="https://cos.example.ru:8443/"))
    try:
        with session_scope(rt.sessionmaker) as s:
            service.record(s, "keys.rotated", actor="system")
            cp = checkpoint.sign_checkpoint(s, rt.settings)
            vkey = checkpoint.verifier_key(s, rt.settings)
    finally:
        rt.dispose()
    name, key_hex, key_b64 = vkey.split("+", 2)
    public_raw = base64.b64decode(key_b64)[1:]
    # key id per signed-note: SHA-256(name || 0x0A || 0x01 || public key)[:4]
    assert hashlib.sha256(name.encode() + b"\n\x01" + public_raw).digest()[:4].hex() == key_hex
    body, sig_line = cp.note.split("\n\n")
    origin, size, root, time_line = body.split("\n")
    assert origin == name  # the key name is the origin of the first key of this database
    assert origin.endswith("/propusk/audit")
    assert int(size) == cp.tree_size and base64.b64decode(root) == cp.root_hash
    assert time_line.startswith("time ")
    assert sig_line.startswith("\u2014 " + name + " ") and sig_line.endswith("\n")
    blob = base64.b64decode(sig_line.rsplit(" ", 1)[1])
    assert blob[:4].hex() == key_hex
    Ed25519PublicKey.from_public_bytes(public_raw).verify(blob[4:], (body + "\n").encode())
    parsed = checkpoint.open_note(cp.note, checkpoint.parse_vkey(vkey))
    assert (parsed.size, parsed.root) == (cp.tree_size, cp.root_hash)


def test_origin_from_issuer():
    s = make_settings("sqlite://", issuer="https://cos.example.ru:8443/idp/")
    assert checkpoint.origin_for(s) == "cos.example.ru:8443/idp/propusk/audit"


def test_foreign_signature_is_refused():
    other = Ed25519PrivateKey.generate()
    body = checkpoint.checkpoint_body("example/log", 1, b"\x00" * 32)
    note = checkpoint.sign_note(body, "example/log", other)
    with pytest.raises(NoteError, match="no signature"):
        checkpoint.open_note(note, checkpoint.parse_vkey(GO_VKEY))
