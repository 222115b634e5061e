"""The deferred (outbox) append: atomic with the change, sequenced later in a stable order,
nothing skipped, event ids kept, concurrent writers never serialised on the sequencer lock."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from audit import checkpoint, leaves, merkle, repository, service
from audit.models import AuditEvent
from audit.sequencer import Sequencer, run_once
from audit.verify import verify_log
from propusk.app import create_app
from propusk.cli import app as cli
from propusk.db import session_scope
from propusk.runtime import build_runtime
from propusk.settings import get_settings
from tests.support.settings import make_settings


@pytest.fixture
def rt(fresh_pg):
    runtime = build_runtime(make_settings(fresh_pg()))
    yield runtime
    runtime.dispose()


def reference_leaf(
    index: int,
    event_id: uuid.UUID,
    event_type: str,
    actor: str,
    subject: str | None,
    when: str,
    body: dict,
) -> bytes:
    """The leaf format written out independently: sorted-key compact JSON, UTF-8."""
    doc = {
        "index": index,
        "id": str(event_id),
        "type": event_type,
        "actor": actor,
        "subject": subject,
        "time": when,
        "body": body,
    }
    return json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def _verified(runtime) -> int:
    with session_scope(runtime.sessionmaker) as s:
        checkpoint.sign_checkpoint(s, runtime.settings)
        report = verify_log(s, checkpoint.trusted_verifier(s, runtime.settings))
    assert report.ok, report.divergence
    return report.size


def test_rolled_back_change_leaves_no_pending_row(rt):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), session_scope(rt.sessionmaker) as s:
        service.record_deferred(s, "gate.decision", actor="client:x", body={"n": 1})
        assert service.pending_count(s) == 1  # visible to its own transaction
        raise Boom
    with session_scope(rt.sessionmaker) as s:
        assert service.pending_count(s) == 0
        assert run_once(rt.sessionmaker) == 0
        assert service.tree_size(s) == 0


def test_committed_event_keeps_its_id_and_gets_a_position(rt):
    with session_scope(rt.sessionmaker) as s:
        pending = service.record_deferred(
            s, "gate.decision", actor="client:x", subject="person:p", body={"id": uuid.UUID(int=7)}
        )
    with session_scope(rt.sessionmaker) as s:
        assert service.tree_size(s) == 0 and service.pending_count(s) == 1
    assert run_once(rt.sessionmaker) == 1
    with session_scope(rt.sessionmaker) as s:
        event = service.get_event(s, pending.id)
        assert service.pending_count(s) == 0
    assert (event.index, event.id, event.time) == (0, pending.id, pending.time)
    assert event.body == {"id": str(uuid.UUID(int=7))}
    assert _verified(rt) == 1


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    body=st.dictionaries(st.text(), _JSON, max_size=5),
    index=st.integers(min_value=0, max_value=2**40),
    labels=st.tuples(st.text(min_size=1), st.text(min_size=1), st.none() | st.text()),
)
def test_the_sequencer_leaf_is_the_canonical_leaf(body, index, labels):
    """The sequencer splices the outbox's stored body text into the leaf instead of decoding and
    re-encoding it: the bytes must be exactly the leaf format's (unicode, escapes, control
    characters, big integers, floats, nesting)."""
    event_type, actor, subject = labels
    event_id, when = uuid.uuid4(), "2026-11-25T10:00:00.123456Z"
    stored = leaves.encode_body(body)  # what record_deferred_many writes to the outbox
    spliced = leaves.leaf_bytes(index, event_id, event_type, actor, subject, when, stored)
    assert spliced == reference_leaf(index, event_id, event_type, actor, subject, when, body)


def test_a_sequenced_leaf_keeps_an_awkward_body_byte_for_byte(rt):
    body = {
        "z": 'кириллица "quoted" \\ \n\t\u0000 \u2028 😀',
        "a": [1, -(2**70), 0.1, 1e300, True, None, {"b": {}, "a": []}],
        "ключ": "значение",
    }
    with session_scope(rt.sessionmaker) as s:
        pending = service.record_deferred(s, "t", actor="client:x", subject=None, body=body)
    assert run_once(rt.sessionmaker) == 1
    with session_scope(rt.sessionmaker) as s:
        row = repository.get_event_by_id(s, pending.id)
        leaf = bytes(row.leaf)
    assert leaf == reference_leaf(
        0, pending.id, "t", "client:x", None, leaves.format_time(pending.time), body
    )
    assert _verified(rt) == 1


def test_late_commit_with_a_lower_seq_is_not_skipped(rt):
    early = rt.sessionmaker()  # inserts first (lower seq), commits last
    try:
        first = service.record_deferred(early, "gate.decision", actor="client:early")
        with session_scope(rt.sessionmaker) as s:
            second = service.record_deferred(s, "gate.decision", actor="client:late")
        assert run_once(rt.sessionmaker) == 1  # only what is committed
        early.commit()
    finally:
        early.close()
    assert run_once(rt.sessionmaker) == 1
    with session_scope(rt.sessionmaker) as s:
        assert service.get_event(s, second.id).index == 0
        assert service.get_event(s, first.id).index == 1
        assert service.pending_count(s) == 0
    assert _verified(rt) == 2


def test_concurrent_deferred_appends_with_a_running_sequencer(rt):
    """Threads commit deferred (and some synchronous) events while the sequencer thread runs:
    every event lands exactly once, positions are contiguous, the log verifies."""
    sequencer = Sequencer(rt.sessionmaker, interval=0.01, gather=0.001)
    ids: list[uuid.UUID] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(w: int) -> None:
        try:
            for i in range(20):
                with session_scope(rt.sessionmaker) as s:
                    if i % 5 == 4:
                        got = service.record(s, "login.success", actor=f"person:{w}").id
                    else:
                        got = service.record_deferred(
                            s, "gate.decision", actor=f"client:{w}", body={"i": i}
                        ).id
                with lock:
                    ids.append(got)
        except BaseException as exc:  # reported below
            errors.append(exc)

    sequencer.start()
    try:
        threads = [threading.Thread(target=worker, args=(w,)) for w in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sequencer.stop()
    assert not errors, errors
    run_once(rt.sessionmaker)
    with session_scope(rt.sessionmaker) as s:
        assert service.pending_count(s) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == len(ids) == 120
        assert service.tree_size(s) == 120
        indexes = sorted(service.get_event(s, i).index for i in ids)
    assert indexes == list(range(120))
    assert _verified(rt) == 120


@pytest.mark.parametrize("body", [{"password": "x"}, {"nested": {"snils": "1"}}])
def test_deferred_refuses_secrets_before_writing(rt, body):
    with session_scope(rt.sessionmaker) as s:
        with pytest.raises(ValueError):
            service.record_deferred(s, "login.failure", actor="person:x", body=body)
        assert service.pending_count(s) == 0


def test_a_fresh_deferred_event_is_provable_at_once(db_url):
    """The proof path integrates the outbox first (SQLite appends at once)."""
    runtime = build_runtime(make_settings(db_url))
    try:
        with session_scope(runtime.sessionmaker) as s:
            pending = service.record_deferred(s, "gate.decision", actor="client:p")
        with session_scope(runtime.sessionmaker) as s:
            proof = service.proofs_for_events(s, [pending.id], runtime.settings)[pending.id]
    finally:
        runtime.dispose()
    assert proof["pending"] is False and proof["event_id"] == str(pending.id)
    b64 = base64.b64decode
    leaf_hash = merkle.leaf_hash(proof["leaf"].encode())
    assert leaf_hash == b64(proof["leaf_hash"])
    hashes = [b64(h) for h in proof["hashes"]]
    assert merkle.verify_inclusion(
        proof["index"], proof["tree_size"], leaf_hash, hashes, b64(proof["root_hash"])
    )


def test_cli_sequence_integrates_the_outbox(fresh_pg, monkeypatch):
    url = fresh_pg()
    runtime = build_runtime(make_settings(url))
    try:
        with session_scope(runtime.sessionmaker) as s:
            ids = [service.record_deferred(s, "gate.decision", actor="client:c").id for _ in "abc"]
    finally:
        runtime.dispose()
    monkeypatch.setenv("PROPUSK_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(cli, ["audit", "sequence"])
        assert out.exit_code == 0, out.output
        assert "OK: 3 events sequenced; tree size 3; 0 pending" in out.output
        assert "checkpoint at size 3" in out.output  # the CLI signs, like the app's thread
        again = CliRunner().invoke(cli, ["audit", "sequence"])
        assert "OK: 0 events sequenced; tree size 3; 0 pending" in again.output
    finally:
        get_settings.cache_clear()
    runtime = build_runtime(make_settings(url))
    try:
        with session_scope(runtime.sessionmaker) as s:
            assert [service.get_event(s, i).index for i in ids] == [0, 1, 2]
            signed = [c.tree_size for c in repository.all_checkpoints(s)]
            assert signed == [3]  # once: signing is idempotent per tree size
            report = verify_log(s, checkpoint.trusted_verifier(s, runtime.settings))
    finally:
        runtime.dispose()
    assert report.ok and report.signed_size == 3, report.divergence


def test_the_app_runs_the_sequencer_thread(rt):
    """On PostgreSQL the app's lifespan starts the sequencer: a committed outbox row gets its
    position with nobody asking for a proof, and the thread stops with the app."""
    app = create_app(runtime=rt)
    with TestClient(app):
        thread = app.state.audit_sequencer._thread
        assert thread is not None and thread.is_alive()
        with session_scope(rt.sessionmaker) as s:
            pending = service.record_deferred(s, "gate.decision", actor="client:app")
        for _ in range(500):  # the thread is woken by the commit; poll, do not time it
            with session_scope(rt.sessionmaker) as s:
                if service.pending_count(s) == 0:
                    break
            time.sleep(0.01)
        with session_scope(rt.sessionmaker) as s:
            assert service.get_event(s, pending.id).index == 0
    assert not thread.is_alive()


def test_a_pending_event_says_so_until_sequenced(rt):
    with session_scope(rt.sessionmaker) as s:
        early = service.record(s, "login.success", actor="person:x")
        pending = service.record_deferred(s, "gate.decision", actor="client:p")
    ids = [early.id, pending.id, uuid.uuid4()]
    with session_scope(rt.sessionmaker) as s:
        got = service.proofs_for_events(s, ids, rt.settings, integrate=False)
    assert got[pending.id] == {"event_id": str(pending.id), "pending": True}
    assert got[early.id]["pending"] is False and got[early.id]["index"] == 0
    assert set(got) == {early.id, pending.id}  # an unknown id is left out
    with session_scope(rt.sessionmaker) as s:
        got = service.proofs_for_events(s, ids, rt.settings)
    assert got[pending.id]["pending"] is False and got[pending.id]["index"] == 1
    assert got[pending.id]["tree_size"] == 2


def test_external_sequencer_process_follows_the_outbox(fresh_pg):
    """``PROPUSK_AUDIT_SEQUENCER=external``: the app's thread leaves the outbox alone and a
    ``propusk audit sequence --follow`` process integrates it, until SIGTERM."""
    url = fresh_pg()
    runtime = build_runtime(make_settings(url, audit_sequencer="external"))
    try:
        with TestClient(create_app(runtime=runtime)):  # the app's sequencer thread runs
            with session_scope(runtime.sessionmaker) as s:
                for _ in "abc":
                    service.record_deferred(s, "gate.decision", actor="client:c")
            time.sleep(0.5)
            with session_scope(runtime.sessionmaker) as s:
                assert service.pending_count(s) == 3  # not the app thread's job
            env = {**os.environ, "PROPUSK_DATABASE_URL": url, "PROPUSK_ENV": "test"}
            cli = Path(sys.executable).parent / "propusk"
            proc = subprocess.Popen(
                [str(cli), "audit", "sequence", "--follow"],
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            try:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    with session_scope(runtime.sessionmaker) as s:
                        if service.pending_count(s) == 0 and service.tree_size(s) == 3:
                            break
                    time.sleep(0.1)
                else:
                    raise AssertionError("the follower did not integrate the outbox")
            finally:
                proc.send_signal(signal.SIGTERM)
                out, _ = proc.communicate(timeout=60)
            assert proc.returncode == 0, out
            assert "audit sequencer running" in out
    finally:
        runtime.dispose()


@pytest.mark.parametrize("body", ['{},"subject":"person:x"', "[1]", "not json", '"s"'])
def test_the_outbox_refuses_a_body_that_is_not_one_json_object(rt, body):
    """The sequencer splices the stored body into the leaf: PostgreSQL refuses, on insert, any
    body that could break out of the leaf's ``body`` member or is not JSON."""
    insert = sa.text(
        "INSERT INTO audit_pending (id, event_type, actor, subject, time, body) "
        "VALUES (:id, 't', 'system', NULL, now(), :body)"
    )
    with pytest.raises(sa.exc.DBAPIError), session_scope(rt.sessionmaker) as s:
        s.execute(insert, {"id": uuid.uuid4(), "body": body})
    with session_scope(rt.sessionmaker) as s:
        assert service.pending_count(s) == 0
        s.execute(insert, {"id": uuid.uuid4(), "body": '{"ok":true}'})  # the check admits these
    assert run_once(rt.sessionmaker) == 1
    assert _verified(rt) == 1
