"""Fixtures of the consent tests' own directory: a live server with the ESIA simulator.

The consent world (``Harness``, ``World``, parties, templates, consents) is
``tests/support/consent_world.py``; its ``harness`` and ``world`` fixtures, which other packages
use too, are the plugin ``tests/support/fixtures_consent.py``.
"""

from __future__ import annotations

import pytest

from tests.support.servers import start_live_server


def _stack(url: str):
    server, rt = start_live_server(url, upstream="simulator", demo=True)
    try:
        yield server.url, rt
    finally:
        server.stop()
        rt.dispose()


@pytest.fixture
def sim_stack(db_url):
    """A live server with the ESIA simulator mounted (demo people): (url, runtime)."""
    yield from _stack(db_url)


@pytest.fixture
def pg_sim_stack(pg_url):
    """The same on PostgreSQL only: for what reads the same on either database (the pages)."""
    yield from _stack(pg_url)
