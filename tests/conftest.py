"""Shared fixtures: databases (SQLite and PostgreSQL), runtimes, apps and live servers.

Database-facing tests take the ``db_url`` fixture, which runs them once on SQLite and once on
PostgreSQL. PostgreSQL is ``PROPUSK_TEST_POSTGRES_URL`` (default: the local server's ``test``
database, through which a fresh database per test session is created). With ``CI=true`` a
missing PostgreSQL fails the run instead of skipping.

Helpers live in plain modules (``tests/support/``: settings, servers, the consent world) and are
imported from there, never from a conftest. The fixtures used by more than one test package are
the plugins below, each defined once.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from propusk.db import make_engine
from propusk.migrate import upgrade
from propusk.runtime import Runtime, build_runtime
from propusk.settings import Settings
from tests.support.servers import LiveServer, demo_server, start_live_server
from tests.support.settings import IN_CI, PG_URL, make_settings

pytest_plugins = [
    "tests.support.fixtures_consent",
    "tests.support.fixtures_biometrics",
    "tests.support.logscan",  # the session's log lines scanned for personal data and secrets
    "tests.support.xdist_groups",  # xdist_group honoured under pytest 9
]


def _postgres_available() -> str | None:
    try:
        engine = make_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # the reason is shown in the skip/fail message
        return f"{type(exc).__name__}: {exc}"


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session (per xdist worker)."""
    reason = _postgres_available()
    if reason:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required on CI and is not reachable: {reason}")
        pytest.skip(f"PostgreSQL not reachable: {reason}")
    name = f"propusk_t_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("sqlite") / "propusk.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request) -> str:
    """Run the test on both databases."""
    if request.param == "postgres":
        return request.getfixturevalue("pg_database")
    return request.getfixturevalue("sqlite_database")


@pytest.fixture
def pg_url(pg_database) -> str:
    """PostgreSQL only (concurrency, triggers, LISTEN/NOTIFY)."""
    return pg_database


# -- fresh databases, for tests that must control every row (a log, the first keys) --------


def _pg_url(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_admin(pg_database):
    """Superuser connection to the PostgreSQL server (creates and drops test databases)."""
    engine = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def pg_template(pg_admin) -> Iterator[str]:
    """A migrated, empty database used as CREATE DATABASE template (much faster than Alembic)."""
    name = f"propusk_tpl_{uuid.uuid4().hex[:8]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    upgrade(_pg_url(name))
    yield name
    with pg_admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def fresh_pg(pg_admin, pg_template) -> Iterator[Callable[[], str]]:
    """Factory of fresh, migrated, empty PostgreSQL databases (dropped after the test)."""
    created: list[str] = []

    def make() -> str:
        name = f"propusk_fresh_{uuid.uuid4().hex[:10]}"
        with pg_admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
        created.append(name)
        return _pg_url(name)

    yield make
    with pg_admin.connect() as conn:
        for name in created:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def fresh_db_url(request, tmp_path) -> str:
    """One fresh database; parametrise indirectly with "sqlite" or "postgres"."""
    if getattr(request, "param", "postgres") == "sqlite":
        url = f"sqlite:///{tmp_path}/fresh.db"
        upgrade(url)
        return url
    return request.getfixturevalue("fresh_pg")()


@pytest.fixture
def settings(db_url) -> Settings:
    return make_settings(db_url)


@pytest.fixture
def runtime(settings) -> Iterator[Runtime]:
    rt = build_runtime(settings)
    yield rt
    rt.dispose()


@pytest.fixture
def session(runtime):
    """A session committed at the end of the test body (like a request boundary)."""
    from propusk.db import session_scope

    with session_scope(runtime.sessionmaker) as s:
        yield s


@pytest.fixture
def app(runtime):
    from propusk.app import create_app

    return create_app(runtime=runtime)


@pytest.fixture
def client(app) -> Iterator[httpx.Client]:
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def live_server(db_url) -> Iterator[LiveServer]:
    server, rt = start_live_server(db_url)
    yield server
    server.stop()
    rt.dispose()


@pytest.fixture
def sim_server(db_url) -> Iterator[tuple[str, Runtime]]:
    """``demo_server`` on both databases."""
    yield from demo_server(db_url)
