"""Fixtures of the ESIA tests: key material, a live simulator, a browser, a runtime.

The simulator runs in a real uvicorn server (``LiveServer``); the connector reaches it over
HTTP. ``helpers.make_connector_app`` is a minimal host for ``EsiaUpstream`` (start + callback →
the real ``idp.login.on_login``) so connector tests do not depend on the OIDC routes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from idp.esia import gost
from idp.esia.keys import client_paths, simulator_paths
from idp.esia.simulator.app import create_simulator_app
from idp.esia.simulator.config import SimulatorConfig
from propusk.runtime import build_runtime
from tests.idp.esia.helpers import ISSUER, Sim
from tests.support.servers import LiveServer, free_port
from tests.support.settings import make_settings


@pytest.fixture
def fast_gost() -> Iterator[None]:
    """Protocol tests run on the fast GOST arithmetic (test_gostfast.py proves it equal to
    gostcrypto and OpenSSL); the reference backend keeps its own end-to-end login test."""
    before = gost.set_backend("fast")
    yield
    gost.set_backend(before)


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory) -> Path:
    """Client and simulator GOST keys, generated once per test session."""
    directory = tmp_path_factory.mktemp("esia-keys")
    client_paths(make_settings("sqlite://"), directory)
    simulator_paths(directory)
    return directory


@pytest.fixture(scope="module")
def sim_server(key_dir) -> Iterator[Sim]:
    port = free_port()
    settings = make_settings(
        "sqlite://", issuer=ISSUER, esia_simulator_url=f"http://127.0.0.1:{port}"
    )
    config = SimulatorConfig.from_settings(settings, key_dir)
    server = LiveServer(create_simulator_app(config), port).start()
    yield Sim(server, config, settings)
    server.stop()


@pytest.fixture
def sim(sim_server) -> Iterator[Sim]:
    """The module's simulator, with tunables restored after each test."""
    config = sim_server.config
    saved = (config.signer, config.token_time_offset, config.timestamp_window)
    yield sim_server
    config.signer, config.token_time_offset, config.timestamp_window = saved


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    with httpx.Client(follow_redirects=False, timeout=30) as client:
        yield client


@pytest.fixture
def db(db_url):
    """A runtime on both databases, for the 'no row written on failure' checks."""
    runtime = build_runtime(make_settings(db_url))
    yield runtime
    runtime.dispose()
