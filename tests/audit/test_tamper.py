"""Append-only enforcement and tamper detection by ``audit verify`` (PostgreSQL, fresh logs).

Tampering simulates an attacker with database-owner rights: the append-only triggers are
disabled (as superuser), rows are edited, the triggers are enabled again.
"""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from audit import checkpoint, merkle, service
from audit.verify import verify_log
from propusk.cli import app as cli
from propusk.db import make_engine, session_scope
from propusk.runtime import build_runtime
from propusk.settings import get_settings
from tests.support.settings import make_settings

SIGNED_AT = (7, 13, 20)


def build_log(url: str) -> None:
    """20 events in 8 transactions, checkpoints signed at sizes 7, 13 and 20."""
    rt = build_runtime(make_settings(url))
    try:
        sizes = [3, 4, 2, 4, 1, 2, 3, 1]
        n = 0
        for count in sizes:
            with session_scope(rt.sessionmaker) as s:
                for _ in range(count):
                    service.record(
                        s,
                        "consent.granted",
                        actor=f"person:{n}",
                        subject=f"person:{n}",
                        body={"purpose": "exam", "n": n, "text": "согласие"},
                    )
                    n += 1
                if n in SIGNED_AT:
                    checkpoint.sign_checkpoint(s, rt.settings)
    finally:
        rt.dispose()


def run_verify(url: str):
    rt = build_runtime(make_settings(url))
    try:
        with session_scope(rt.sessionmaker) as s:
            return verify_log(s, checkpoint.trusted_verifier(s, rt.settings))
    finally:
        rt.dispose()


def tamper(url: str, *statements: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for table in ("audit_event", "audit_node", "audit_checkpoint"):
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            for sql in statements:
                conn.execute(text(sql))
            for table in ("audit_event", "audit_node", "audit_checkpoint"):
                conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
    finally:
        engine.dispose()


@pytest.fixture
def log_url(fresh_pg) -> str:
    url = fresh_pg()
    build_log(url)
    return url


def test_untouched_log_verifies(log_url):
    report = run_verify(log_url)
    assert report.ok, report.divergence
    assert (report.size, report.checkpoints, report.signed_size) == (20, 3, 20)


@pytest.mark.parametrize(
    ("statements", "position"),
    [
        # one byte of one hashed leaf
        (["UPDATE audit_event SET leaf = set_byte(leaf, 40, 88) WHERE idx = 9"], 9),
        # one column only (the leaf keeps the truth)
        (["UPDATE audit_event SET actor = 'person:evil' WHERE idx = 11"], 11),
        # a deleted event in the middle
        (["DELETE FROM audit_event WHERE idx = 5"], 5),
        # two events swapped
        (
            [
                "UPDATE audit_event SET idx = -1 WHERE idx = 3",
                "UPDATE audit_event SET idx = 3 WHERE idx = 4",
                "UPDATE audit_event SET idx = 4 WHERE idx = -1",
            ],
            3,
        ),
        # the tail truncated below a signed checkpoint
        (["DELETE FROM audit_event WHERE idx >= 15"], 15),
        # an event inserted beyond the tree head
        (
            [
                "INSERT INTO audit_event (idx, id, event_type, actor, subject, time, leaf,"
                " leaf_hash) SELECT 20, gen_random_uuid(), event_type, actor, subject, time,"
                " leaf, leaf_hash FROM audit_event WHERE idx = 19"
            ],
            20,
        ),
        # a stored subtree hash (proofs are served from these)
        (["UPDATE audit_node SET hash = sha256(hash) WHERE level = 2 AND idx = 1"], 4),
    ],
    ids=["byte", "column", "delete", "swap", "truncate", "insert", "node"],
)
def test_tampering_is_located(log_url, statements, position):
    tamper(log_url, *statements)
    report = run_verify(log_url)
    assert not report.ok
    assert report.divergence.position == position, report.divergence


def recomputed_tree_statements(leaf_hashes: list[bytes]) -> list[str]:
    """SQL that replaces every interior node and the head by ones recomputed from the leaves."""
    frontier, values = merkle.Frontier(), []
    for lh in leaf_hashes:
        values += [f"({lvl}, {i}, '\\x{h.hex()}'::bytea)" for lvl, i, h in frontier.append(lh)]
    return [
        "DELETE FROM audit_node",
        "INSERT INTO audit_node (level, idx, hash) VALUES " + ", ".join(values),
        f"UPDATE audit_head SET frontier = '\\x{frontier.to_bytes().hex()}'::bytea",
    ]


@pytest.mark.parametrize("with_nodes", [False, True])
def test_rehashed_forgery_is_caught(log_url, with_nodes):
    """An attacker who rewrites a leaf and its stored hash is caught by the stored subtree (8..9)
    above it; one who also recomputes every interior node and the head still cannot match the
    signed root: the divergence is located after the last checkpoint that verifies (7)."""
    engine = make_engine(log_url)
    with engine.connect() as conn:
        leaf = conn.execute(text("SELECT leaf FROM audit_event WHERE idx = 9")).scalar_one()
        hashes = [
            bytes(h) for h in conn.scalars(text("SELECT leaf_hash FROM audit_event ORDER BY idx"))
        ]
    engine.dispose()
    forged = bytes(leaf).replace(b"exam", b"sale")
    assert forged != bytes(leaf)
    forged_hash = hashlib.sha256(b"\x00" + forged).hexdigest()
    hashes[9] = bytes.fromhex(forged_hash)
    statements = [
        f"UPDATE audit_event SET leaf = '\\x{forged.hex()}'::bytea, "
        f"leaf_hash = '\\x{forged_hash}'::bytea WHERE idx = 9"
    ]
    if with_nodes:
        statements += recomputed_tree_statements(hashes)
    tamper(log_url, *statements)
    report = run_verify(log_url)
    assert not report.ok
    if with_nodes:
        assert report.divergence.position == 7
        assert "size 13" in report.divergence.reason
    else:
        assert report.divergence.position == 8
        assert "(1, 4)" in report.divergence.reason


def test_forged_checkpoint_signature_fails(log_url):
    tamper(log_url, "UPDATE audit_checkpoint SET note = replace(note, '\n13\n', '\n12\n')")
    report = run_verify(log_url)
    assert not report.ok and report.divergence.position is None


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_event SET actor = 'x' WHERE idx = 1",
        "DELETE FROM audit_event WHERE idx = 1",
        "TRUNCATE audit_event",
        "UPDATE audit_node SET hash = hash",
        "DELETE FROM audit_checkpoint",
    ],
)
def test_app_role_cannot_change_the_log(log_url, sql):
    engine = make_engine(log_url)
    try:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()
    assert run_verify(log_url).ok


def test_cli_verify_exit_codes(log_url, monkeypatch):
    monkeypatch.setenv("PROPUSK_DATABASE_URL", log_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        ok = runner.invoke(cli, ["audit", "verify"])
        assert ok.exit_code == 0, ok.output
        assert "OK: 20 events, 3 signed checkpoints" in ok.output
        proof = runner.invoke(cli, ["audit", "proof", "4"])
        assert proof.exit_code == 0 and '"tree_size": 20' in proof.output
        assert runner.invoke(cli, ["audit", "proof", "99"]).exit_code == 2
        vkey = runner.invoke(cli, ["audit", "key"]).output.strip()
        note = runner.invoke(cli, ["audit", "checkpoint"]).output
        assert checkpoint.open_note(note, checkpoint.parse_vkey(vkey)).size == 20
        tamper(log_url, "DELETE FROM audit_event WHERE idx = 12")
        bad = runner.invoke(cli, ["audit", "verify"])
        assert bad.exit_code == 1
        assert "first divergent position 12" in bad.output
    finally:
        get_settings.cache_clear()
