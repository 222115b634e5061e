"""Who signs checkpoints: the sequencer (at start-up, then on its cadence) and the CLI. The
public GETs of the checkpoint and the verifier key read; they sign and create nothing."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from audit import checkpoint, merkle, service
from audit.models import AuditCheckpoint, AuditKey
from audit.sequencer import sign_due
from propusk.app import create_app
from propusk.db import session_scope
from propusk.runtime import build_runtime
from tests.support.settings import make_settings


def _counts(rt) -> tuple[int, int]:
    with session_scope(rt.sessionmaker) as s:
        return (
            s.scalar(select(func.count()).select_from(AuditCheckpoint)),
            s.scalar(select(func.count()).select_from(AuditKey)),
        )


def _problem(r, status: int, slug: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/" + slug)


@pytest.mark.parametrize("fresh_db_url", ["sqlite", "postgres"], indirect=True)
def test_start_up_signs_the_empty_log_and_the_gets_sign_nothing(fresh_db_url):
    rt = build_runtime(make_settings(fresh_db_url, audit_checkpoint_every=0))
    app = create_app(runtime=rt)
    try:
        idle = TestClient(app, base_url="http://testserver")  # not entered: no start-up
        _problem(idle.get("/api/v1/audit/checkpoint"), 404, "audit-no-checkpoint")
        _problem(idle.get("/api/v1/audit/key"), 404, "audit-no-key")
        assert _counts(rt) == (0, 0)  # neither a checkpoint nor a key was made by a GET
        with TestClient(app, base_url="http://testserver") as c:
            r = c.get("/api/v1/audit/checkpoint")  # signed at start-up, before serving
            assert r.status_code == 200, r.text
            vkey = c.get("/api/v1/audit/key").text
            cp = checkpoint.open_note(r.text, checkpoint.parse_vkey(vkey))
            assert (cp.size, cp.root) == (0, merkle.EMPTY_ROOT)
            assert cp.origin == "testserver/propusk/audit"
    finally:
        rt.dispose()
    assert _counts(rt) == (1, 1)


@pytest.mark.parametrize("fresh_db_url", ["sqlite", "postgres"], indirect=True)
def test_the_checkpoint_get_signs_nothing_even_when_one_is_due(fresh_db_url):
    """The tree grows and a checkpoint is due at once (``audit_checkpoint_every=0``): the GET
    still serves the stored latest one; signing is the sequencer's job (not running here)."""
    rt = build_runtime(make_settings(fresh_db_url, audit_checkpoint_every=0))
    try:
        with session_scope(rt.sessionmaker) as s:
            signed = checkpoint.sign_checkpoint(s, rt.settings)
            service.record(s, "login.success", actor=f"person:{uuid.uuid4()}")
        assert _counts(rt) == (1, 1)
        r = TestClient(create_app(runtime=rt)).get("/api/v1/audit/checkpoint")
        assert r.status_code == 200 and r.text == signed.note
        assert _counts(rt) == (1, 1)
    finally:
        rt.dispose()


@pytest.mark.parametrize("fresh_db_url", ["sqlite", "postgres"], indirect=True)
def test_the_sequencer_signs_on_its_cadence(fresh_db_url):
    """``sign_if_due``: nothing while the latest checkpoint covers the tree or is younger than
    the cadence; the current tree once the tree grew and the cadence has passed."""
    rt = build_runtime(make_settings(fresh_db_url, audit_checkpoint_every=3600))
    try:
        first = sign_due(rt.sessionmaker, rt.settings)  # no checkpoint yet: due
        assert first is not None and first.tree_size == 0
        assert sign_due(rt.sessionmaker, rt.settings) is None  # covers the tree
        with session_scope(rt.sessionmaker) as s:
            service.record(s, "login.success", actor="person:x")
        assert sign_due(rt.sessionmaker, rt.settings) is None  # grew, but signed just now
        assert sign_due(rt.sessionmaker, rt.settings, now=True).tree_size == 1
        with session_scope(rt.sessionmaker) as s:
            service.record(s, "login.success", actor="person:y")
        no_cadence = rt.settings.model_copy(update={"audit_checkpoint_every": 0})
        assert sign_due(rt.sessionmaker, no_cadence).tree_size == 2
    finally:
        rt.dispose()
    assert _counts(rt) == (3, 1)
