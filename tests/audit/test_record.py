"""record()/record_many(): positions, leaf hashes, tree state, same-transaction semantics."""

from __future__ import annotations

import uuid

import pytest

from audit import merkle, repository, service
from propusk.db import session_scope


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
