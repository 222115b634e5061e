"""Fixtures of the consent tests' own directory: a live server with the ESIA simulator.

The consent world (``Harness``, ``World``, parties, templates, consents) is
``tests/support/consent_world.py``; its ``harness`` and ``world`` fixtures, which other packages
use too, are the plugin ``tests/support/fixtures_consent.py``.
"""

from __future__ import annotations

import pytest

from tests.support.servers import start_live_server


@pytest.fixture
def sim_stack(db_url):
    """A live server with the ESIA simulator mounted (demo people): (url, runtime)."""
    server, rt = start_live_server(db_url, upstream="simulator", demo=True)
    try:
        yield server.url, rt
    finally:
        server.stop()
        rt.dispose()
