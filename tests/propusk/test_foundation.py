"""The kernel: settings refusal, problem+json, health, readiness, encryption, transactions."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from propusk import crypto
from propusk.db import session_scope
from propusk.runtime import build_runtime
from propusk.settings import Settings
from tests.support.settings import make_settings


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "up"


def test_readyz_reports_a_dead_database(tmp_path):
    from fastapi.testclient import TestClient

    from propusk.app import create_app
    from tests.support.settings import make_settings

    bad = make_settings("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with TestClient(create_app(bad)) as c:
        assert c.get("/readyz").status_code == 503


def test_unknown_route_is_problem_json(client):
    r = client.get("/no/such/thing")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 404


@pytest.mark.parametrize(
    "overrides",
    [
        {},  # every development default
        {"kek": "A" * 43, "session_secret": "s" * 40},  # still sqlite, simulator upstream
    ],
)
def test_production_refuses_development_defaults(overrides):
    s = Settings(env="production", **overrides)
    with pytest.raises(RuntimeError, match="refusing to start in production"):
        s.check_production()


def test_production_accepts_real_settings():
    import base64
    import os

    Settings(
        env="production",
        kek=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        session_secret="x" * 48,
        upstream="esia",
        database_url="postgresql+psycopg://app@db/propusk",
        issuer="https://id.school.example",
        operator_inn="5012345672",
    ).check_production()


def test_production_refuses_the_demonstration_operator():
    """The processing policy and the art. 14 answers name the operator: never the demo one."""
    import base64
    import os

    real = {
        "kek": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "session_secret": "x" * 48,
        "upstream": "esia",
        "database_url": "postgresql+psycopg://app@db/propusk",
        "issuer": "https://id.school.example",
    }
    with pytest.raises(RuntimeError, match="PROPUSK_OPERATOR_"):
        Settings(env="production", **real).check_production()


def test_aes_gcm_round_trip_and_binding():
    key = b"k" * 32
    blob = crypto.encrypt(key, b"secret", b"row:1")
    assert b"secret" not in blob
    assert crypto.decrypt(key, blob, b"row:1") == b"secret"
    from cryptography.exceptions import InvalidTag

    with pytest.raises(InvalidTag):
        crypto.decrypt(key, blob, b"row:2")


def test_session_scope_rolls_back_on_error(runtime):
    with session_scope(runtime.sessionmaker) as s:
        s.execute(text("CREATE TABLE IF NOT EXISTS t_rollback (v INTEGER)"))
    with pytest.raises(ZeroDivisionError), session_scope(runtime.sessionmaker) as s:
        s.execute(text("INSERT INTO t_rollback VALUES (1)"))
        1 / 0  # noqa: B018
    with session_scope(runtime.sessionmaker) as s:
        assert s.execute(text("SELECT count(*) FROM t_rollback")).scalar() == 0
        s.execute(text("DROP TABLE t_rollback"))


def test_the_connection_pool_is_sized_by_the_settings(pg_url):
    """Each process's PostgreSQL pool follows db_pool_size / db_max_overflow (max_connections
    is sized from them: docs/operations.md)."""
    rt = build_runtime(make_settings(pg_url, db_pool_size=2, db_max_overflow=1))
    try:
        assert (rt.engine.pool.size(), rt.engine.pool._max_overflow) == (2, 1)
        with pytest.raises(ValueError):
            Settings(db_pool_size=0)
    finally:
        rt.dispose()
