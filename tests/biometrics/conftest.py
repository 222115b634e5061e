"""Fixtures of the biometrics tests; the harness they use is ``tests.biometrics.harness``."""

from __future__ import annotations

import pytest

from tests.biometrics.harness import (
    Bio,
)


@pytest.fixture
def bio(app, client, runtime) -> Bio:
    """The harness over the in-process app: its callers resolved from test bearer tokens."""
    h = Bio(client=client, runtime=runtime)
    app.state.principal_resolver = h.resolve
    return h
