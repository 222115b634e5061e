"""The test environment: where PostgreSQL and the shared data are, the settings of a test app,
and skipping a test whose system tool is missing.

PostgreSQL is ``PROPUSK_TEST_POSTGRES_URL`` (default: the local server's ``test`` database). With
``CI=true`` a missing PostgreSQL or system tool fails the run instead of skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from propusk.settings import Settings

PG_URL = os.environ.get(
    "PROPUSK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"
SHARED = Path(__file__).resolve().parents[3] / "shared"
FACES = Path(os.environ.get("PROPUSK_FACES_DIR", SHARED / "faces"))


def make_settings(database_url: str, **overrides) -> Settings:
    values = {
        "env": "test",
        "database_url": database_url,
        "issuer": "http://testserver",
        "upstream": "simulator",
        "demo": True,
        # a worker builds many apps: each keeps few idle connections, so that the suite's
        # workers and server processes stay well under PostgreSQL's max_connections (100)
        "db_pool_size": 3,
    }
    values.update(overrides)
    return Settings(**values)


def needs_tool(available: bool, what: str):
    """Skip a test whose system tool is missing on a developer's machine; on CI (which installs
    every tool through `make system-deps`) run it anyway, so a missing install step fails."""
    return pytest.mark.skipif(not available and not IN_CI, reason=f"{what} (make system-deps)")
