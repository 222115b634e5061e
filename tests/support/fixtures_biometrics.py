"""Fixture plugin: the biometrics harness over the in-process app.

Listed in the root conftest's ``pytest_plugins``: the biometrics tests and the other packages
that act as biometrics callers (e.g. ``tests/security``) use it; the harness itself is
``tests/biometrics/harness.py``.
"""

from __future__ import annotations

import pytest

from tests.biometrics.harness import Bio


@pytest.fixture
def bio(app, client, runtime) -> Bio:
    """The harness over the in-process app: its callers resolved from test bearer tokens."""
    h = Bio(client=client, runtime=runtime)
    app.state.principal_resolver = h.resolve
    return h
