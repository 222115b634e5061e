"""Fixtures of the OIDC tests: an app on both databases with the development upstream."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from propusk.app import create_app
from propusk.runtime import build_runtime
from tests.support.settings import make_settings


@pytest.fixture
def rt(db_url):
    runtime = build_runtime(make_settings(db_url, upstream="dev"))
    yield runtime
    runtime.dispose()


@pytest.fixture
def http(rt):
    with TestClient(create_app(runtime=rt), base_url="http://testserver") as c:
        yield c
