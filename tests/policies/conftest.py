"""Fixtures of the policy tests: a fresh world of callers per test and an HTTP client acting
as any of them (helpers in ``tests.policies.world``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.policies.world import World, install_test_resolver, make_world


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def world_client(app, world) -> Iterator[TestClient]:
    install_test_resolver(app, world)
    with TestClient(app, base_url="http://testserver") as c:
        yield c
