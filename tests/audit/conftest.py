"""Fresh databases whose audit log content a test fully controls (other packages' tests write
events into the shared session databases): ``fresh_pg`` and ``fresh_db_url`` in
``tests/conftest.py``."""

from __future__ import annotations

import pytest

from tests.support.settings import make_settings


@pytest.fixture
def fresh_settings(fresh_db_url):
    return make_settings(fresh_db_url)
