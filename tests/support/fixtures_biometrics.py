"""Fixture plugin: the biometrics harness over the in-process app.

Listed in the root conftest's ``pytest_plugins``: the biometrics tests and the other packages
that act as biometrics callers (e.g. ``tests/security``) use it; the harness itself is
``tests/biometrics/harness.py``, imported when the fixture is first used (not by every test
run that loads the root conftest: it brings in numpy and the face engine).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.biometrics.harness import Bio


@pytest.fixture
def bio(app, client, runtime) -> Bio:
    """The harness over the in-process app: its callers resolved from test bearer tokens."""
    from tests.biometrics.harness import Bio

    h = Bio(client=client, runtime=runtime)
    app.state.principal_resolver = h.resolve
    return h
