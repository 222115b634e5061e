"""record()/record_many(): positions, leaf hashes, tree state, same-transaction semantics."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from audit import checkpoint, merkle, repository, service
from audit.models import AuditEvent
from audit.verify import verify_log
from propusk.db import make_engine, session_scope
from propusk.migrate import upgrade
from propusk.runtime import build_runtime
from tests.audit.reference import root_from_leaves
from tests.support.settings import make_settings


def test_record_appends_contiguous_positions(runtime):
    subject = f"person:{uuid.uuid4()}"
    with session_scope(runtime.sessionmaker) as s:
        first = service.record(s, "login.success", actor=subject, subject=subject, body={"n": 1})
        second = service.record(s, "logout", actor=subject, subject=subject)
    assert second.index == first.index + 1
    assert first.body == {"n": 1}
    with session_scope(runtime.sessionmaker) as s:
        row = repository.get_event(s, first.index)
        assert row is not None and row.id == first.id
        assert merkle.leaf_hash(row.leaf) == first.leaf_hash == row.leaf_hash
        size, _blob = repository.read_head(s)
        assert size > second.index


def test_rollback_removes_event_and_keeps_tree(runtime):
    subject = f"person:{uuid.uuid4()}"
    with session_scope(runtime.sessionmaker) as s:
        _size_before, _frontier_before = repository.read_head(s)
    with pytest.raises(RuntimeError), session_scope(runtime.sessionmaker) as s:
        service.record(s, "consent.granted", actor=subject, subject=subject)
        raise RuntimeError("the change failed")
    with session_scope(runtime.sessionmaker) as s:
        assert repository.events_for_subject(s, subject) == []


@pytest.mark.parametrize(
    "body", [{"password": "x"}, {"nested": {"snils": "123"}}, {"list": [{"embedding": [1.0]}]}]
)
def test_secrets_are_refused(runtime, body):
    with pytest.raises(ValueError), session_scope(runtime.sessionmaker) as s:
        service.record(s, "login.success", actor="system", body=body)


def test_record_many_and_single_appends_build_the_reference_tree(fresh_pg):
    """Batched and one-by-one appends store the tree the reference MTH computes, and every
    stored-node proof verifies against it."""
    for batched in (True, False):
        rt = build_runtime(make_settings(fresh_pg()))
        events = [service.NewEvent("token.issued", "client:c", None, {"n": i}) for i in range(37)]
        with session_scope(rt.sessionmaker) as s:
            if batched:
                stored = service.record_many(s, events)
            else:
                stored = [
                    service.record(s, e.event_type, actor=e.actor, body=e.body) for e in events
                ]
        assert [e.index for e in stored] == list(range(37))
        hashes = [e.leaf_hash for e in stored]
        with session_scope(rt.sessionmaker) as s:
            for size in (1, 2, 5, 16, 37):
                root = root_from_leaves(hashes[:size])
                assert service.root_at(s, size) == root
                for index in range(size):
                    proof = service.inclusion_proof(s, index, size)
                    assert merkle.verify_inclusion(index, size, hashes[index], proof, root)
            checkpoint.sign_checkpoint(s, rt.settings)
            assert verify_log(s, checkpoint.trusted_verifier(s, rt.settings)).ok
        rt.dispose()


def test_concurrent_appends_get_contiguous_positions(fresh_pg):
    """Threads appending at once on PostgreSQL: the advisory-lock sequencer keeps positions
    contiguous and the tree verifiable."""
    rt = build_runtime(make_settings(fresh_pg()))
    errors: list[BaseException] = []

    def worker(w: int) -> None:
        try:
            for i in range(15):
                with session_scope(rt.sessionmaker) as s:
                    if i % 3 == 0:
                        service.record_many(
                            s, [service.NewEvent("token.issued", f"client:{w}") for _ in range(4)]
                        )
                    else:
                        service.record(s, "login.success", actor=f"person:{w}", body={"i": i})
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    expected = 6 * (5 * 4 + 10)
    with session_scope(rt.sessionmaker) as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == expected
        assert repository.read_head(s)[0] == expected
        checkpoint.sign_checkpoint(s, rt.settings)
        report = verify_log(s, checkpoint.trusted_verifier(s, rt.settings))
    rt.dispose()
    assert report.ok, report.divergence
    assert report.size == expected


def test_sqlite_log_is_append_only_and_verifiable(tmp_path):
    url = f"sqlite:///{tmp_path}/a.db"
    upgrade(url)
    rt = build_runtime(make_settings(url))

    def verify():
        with session_scope(rt.sessionmaker) as s:
            return verify_log(s, checkpoint.trusted_verifier(s, rt.settings))

    with session_scope(rt.sessionmaker) as s:
        service.record_many(s, [service.NewEvent("policy.changed", "system") for _ in range(6)])
        checkpoint.sign_checkpoint(s, rt.settings)
    assert verify().ok
    engine = make_engine(url)
    for sql in ("UPDATE audit_event SET actor = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
    with engine.begin() as conn:  # an attacker with the database file drops the trigger
        conn.execute(text("DROP TRIGGER audit_event_no_delete"))
        conn.execute(text("DELETE FROM audit_event WHERE idx = 4"))
    engine.dispose()
    report = verify()
    rt.dispose()
    assert not report.ok and report.divergence.position == 4


def test_common_python_values_are_stored_as_json(runtime):
    ref = uuid.uuid4()
    with session_scope(runtime.sessionmaker) as s:
        ev = service.record(
            s,
            "status.changed",
            actor="system",
            body={"person": ref, "on": date(2026, 9, 1), "at": datetime(2026, 9, 1, tzinfo=UTC)},
        )
    with session_scope(runtime.sessionmaker) as s:
        stored = service.get_event(s, ev.index)
    assert stored.body == {
        "person": str(ref),
        "on": "2026-09-01",
        "at": "2026-09-01T00:00:00.000000Z",
    }
    with pytest.raises(TypeError), session_scope(runtime.sessionmaker) as s:
        service.record(s, "status.changed", actor="system", body={"x": object()})


def test_empty_checkpoint_then_growth_verifies(fresh_pg):
    rt = build_runtime(make_settings(fresh_pg()))
    with session_scope(rt.sessionmaker) as s:
        empty = checkpoint.latest(s, rt.settings)
        assert (empty.tree_size, bytes(empty.root_hash)) == (0, merkle.EMPTY_ROOT)
    for n in (1, 2):
        with session_scope(rt.sessionmaker) as s:
            service.record_many(s, [service.NewEvent("login.success", "person:x")] * n)
            checkpoint.sign_checkpoint(s, rt.settings)
    with session_scope(rt.sessionmaker) as s:
        report = verify_log(s, checkpoint.trusted_verifier(s, rt.settings))
    rt.dispose()
    assert report.ok, report.divergence
    assert (report.size, report.checkpoints) == (3, 3)
