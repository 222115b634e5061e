"""Fixture plugin: the consent harness over the in-process app, and the common starting world.

Listed in the root conftest's ``pytest_plugins``: the consent tests and the other packages that
act in the consent world (e.g. ``tests/security``) use these fixtures; the helpers they return
are ``tests/support/consent_world.py``, imported when a fixture is first used (not by every test
run that loads the root conftest). ``tests/policies`` has a ``world`` of its own (its
conftest), which takes precedence there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from fastapi import Request

from propusk.security import ANONYMOUS, Principal

if TYPE_CHECKING:
    from tests.support.consent_world import Harness, World


@pytest.fixture
def harness(app, client, runtime) -> Harness:
    from tests.support.consent_world import Harness

    h = Harness(client=client, runtime=runtime)

    def resolve(request: Request, session) -> Principal:
        auth = request.headers.get("authorization", "")
        return h.tokens.get(auth.removeprefix("Bearer ").strip(), ANONYMOUS)

    app.state.principal_resolver = resolve
    h.catalogue()
    return h


@pytest.fixture
def world(harness: Harness) -> World:
    """One operator, one supplier, a published template (``consent_world.World``)."""
    from tests.support.consent_world import World

    op = harness.organization("operator")
    sup = harness.organization("supplier")
    op_h = harness.org_client(op["id"], "operator")
    sup_h = harness.org_client(sup["id"], "supplier")
    tpl = harness.template(op_h)
    return World(harness, op, op_h, sup, sup_h, tpl)
