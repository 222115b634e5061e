"""Fresh databases whose audit log content a test fully controls (other packages' tests write
events into the shared session databases)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from propusk.db import make_engine
from propusk.migrate import upgrade
from tests.conftest import PG_URL, make_settings


def _url(name: str) -> str:
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
    name = f"propusk_audit_tpl_{uuid.uuid4().hex[:8]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    upgrade(_url(name))
    yield name
    with pg_admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def fresh_pg(pg_admin, pg_template) -> Iterator[Callable[[], str]]:
    """Factory of fresh, migrated, empty PostgreSQL databases (dropped after the test)."""
    created: list[str] = []

    def make() -> str:
        name = f"propusk_audit_{uuid.uuid4().hex[:10]}"
        with pg_admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
        created.append(name)
        return _url(name)

    yield make
    with pg_admin.connect() as conn:
        for name in created:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def fresh_db_url(request, tmp_path) -> str:
    """One fresh database; parametrise indirectly with "sqlite" or "postgres"."""
    if getattr(request, "param", "postgres") == "sqlite":
        url = f"sqlite:///{tmp_path}/audit.db"
        upgrade(url)
        return url
    return request.getfixturevalue("fresh_pg")()


@pytest.fixture
def fresh_settings(fresh_db_url):
    return make_settings(fresh_db_url)
