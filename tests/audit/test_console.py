"""The platform console's view of the log (``audit.console``, ``GET /api/v1/audit/status``,
``POST /api/v1/audit/verify``): the same verification as ``propusk audit verify``, bounded in
time, its findings as codes the catalogue names in Russian. Fresh PostgreSQL logs (the tamper
tests' builder), the real app and policy; the caller is a test principal."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from audit import checkpoint, console
from audit.verify import CODES, verify_log
from propusk import messages
from propusk.app import create_app
from propusk.db import session_scope
from propusk.runtime import build_runtime
from propusk.security import ANONYMOUS
from tests.audit.test_api import ADMIN
from tests.audit.test_tamper import build_log, tamper
from tests.support.settings import make_settings


@pytest.fixture
def log_rt(fresh_pg):
    url = fresh_pg()
    build_log(url)
    rt = build_runtime(make_settings(url))
    yield url, rt
    rt.dispose()


@pytest.fixture
def admin_client(log_rt):
    _, rt = log_rt
    app = create_app(runtime=rt)
    callers = {"admin": ADMIN}

    def resolve(request, session):
        return callers.get(request.headers.get("x-test-caller", ""), ANONYMOUS)

    with TestClient(app) as client:
        app.state.principal_resolver = resolve
        yield client


def test_every_finding_has_a_russian_sentence():
    texts = messages.catalogue().admin["verify"]
    assert set(texts) == set(CODES)
    assert all(t[0].isupper() and t.endswith(".") for t in texts.values())


def test_status_and_verification_of_an_untouched_log(admin_client):
    status = admin_client.get("/api/v1/audit/status", headers={"x-test-caller": "admin"})
    assert status.status_code == 200, status.text
    body = status.json()
    assert body["checkpoint_size"] == 20 and body["pending"] == 0
    assert body["tree_size"] >= 20 and body["checkpoint_age_seconds"] >= 0
    r = admin_client.post("/api/v1/audit/verify", headers={"x-test-caller": "admin"})
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["ok"] and result["complete"] and result["divergence"] is None
    assert result["checked"] == result["size"] >= 20 and result["checkpoints"] == 3
    assert len(result["root_hash"]) == 64


def test_a_tampered_log_is_reported_with_its_position_and_code(log_rt, admin_client):
    url, _ = log_rt
    tamper(url, "UPDATE audit_event SET actor = 'person:evil' WHERE idx = 11")
    r = admin_client.post("/api/v1/audit/verify", headers={"x-test-caller": "admin"})
    assert r.status_code == 200, r.text
    result = r.json()
    assert not result["ok"] and result["root_hash"] is None
    assert result["divergence"]["position"] == 11
    assert result["divergence"]["code"] == "column-differs"


def test_the_walk_stops_at_its_deadline_and_says_so(log_rt):
    _, rt = log_rt
    with session_scope(rt.sessionmaker) as s:
        verifier = checkpoint.trusted_verifier(s, rt.settings)
        report = verify_log(s, verifier, deadline=time.monotonic() - 1)
        s.rollback()
    assert report.ok and not report.complete and report.checked == 0


def test_one_verification_at_a_time(log_rt):
    _, rt = log_rt
    assert console._RUNNING.acquire(blocking=False)
    try:
        with pytest.raises(console.VerificationRunning):
            console.verify_now(rt.sessionmaker, rt.settings)
    finally:
        console._RUNNING.release()
    answer = console.verify_now(rt.sessionmaker, rt.settings)
    assert answer["ok"] and answer["complete"] and answer["checked"] >= 20


def test_only_the_platform_admin_reads_the_log(admin_client):
    for method, path in (("GET", "/api/v1/audit/status"), ("POST", "/api/v1/audit/verify")):
        r = admin_client.request(method, path)
        assert r.status_code == 401, (path, r.status_code)
