"""Fixtures of the ESIA tests: key material, a live simulator, and a connector app around it.

The simulator runs in a real uvicorn server (``LiveServer``); the connector reaches it over
HTTP. ``connector_app`` is a minimal host for ``EsiaUpstream`` (start + callback → the real
``idp.service.on_login``) so connector tests do not depend on the OIDC routes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from idp.esia.keys import client_paths, simulator_paths
from idp.esia.simulator.app import create_simulator_app
from idp.esia.simulator.config import SimulatorConfig
from idp.esia.upstream import EsiaUpstream, build_upstream
from idp.upstream import UpstreamError
from propusk.db import session_scope
from propusk.runtime import build_runtime
from tests.conftest import LiveServer, free_port, make_settings

ISSUER = "http://testserver"
PARENT_OID = "1000400024"  # Волков Виктор Андреевич, father of Полина (17)


@pytest.fixture
def fast_gost() -> Iterator[None]:
    """Protocol tests run on the fast GOST arithmetic (test_gostfast.py proves it equal to
    gostcrypto and OpenSSL); the reference backend keeps its own end-to-end login test."""
    from idp.esia import gost

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


@dataclass
class Sim:
    server: LiveServer
    config: SimulatorConfig
    settings: object

    @property
    def url(self) -> str:
        return self.server.url


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


def upstream_for(sim: Sim, key_dir: Path, **kwargs) -> EsiaUpstream:
    overrides = kwargs.pop("settings", {})
    settings = sim.settings.model_copy(update=overrides)
    return build_upstream(settings, key_dir=key_dir, **kwargs)


def make_connector_app(upstream: EsiaUpstream, runtime=None) -> FastAPI:
    """Start and callback routes as the OIDC layer would call them (sync, threadpool)."""
    from idp.service import on_login

    app = FastAPI()
    app.state.identities = []

    @app.get("/start")
    def start(request: Request, txn: str = "txn-1"):
        return upstream.start(request, txn)

    @app.get("/login/esia/callback")
    def callback(request: Request):
        try:
            txn_id, identity = upstream.finish(request)
        except UpstreamError as err:
            body = {"code": err.code, "message": err.message, "txn": getattr(err, "txn_id", None)}
            return JSONResponse(body, status_code=400)
        app.state.identities.append((txn_id, identity))
        body = {"txn": txn_id, "oid": identity.esia_oid}
        if runtime is not None:
            with session_scope(runtime.sessionmaker) as session:
                person = on_login(session, identity, settings=runtime.settings)
                body["person_id"] = str(person.id)
        return JSONResponse(body)

    return app


def login_page(browser: httpx.Client, location: str) -> tuple[str, str]:
    """GET the simulator's login page; returns (form action, rid)."""
    page = browser.get(location)
    assert page.status_code == 200, page.text
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    rid = re.search(r'name="rid" value="([^"]+)"', page.text).group(1)
    return action, rid


def choose(browser: httpx.Client, location: str, oid: str | None = None, deny: bool = False):
    """Log in as ``oid`` on the simulator page (or refuse); returns the redirect response."""
    action, rid = login_page(browser, location)
    data = {"rid": rid, "deny": "1"} if deny else {"rid": rid, "oid": oid}
    response = browser.post(action, data=data)
    assert response.status_code == 302, response.text
    return response


def callback_path(location: str) -> str:
    assert location.startswith(ISSUER + "/login/esia/callback?"), location
    return location[len(ISSUER) :]


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


def identity_rows(runtime) -> tuple[int, int, int]:
    """Persons, statuses and guardianships: what a failed login must not change."""
    from idp.models import Guardianship, Person, Status

    with session_scope(runtime.sessionmaker) as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (Person, Status, Guardianship)
        )
