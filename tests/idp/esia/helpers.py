"""Helpers of the ESIA tests: the simulator handle, a connector app, driving the login page.

Fixtures live in ``conftest.py``; tests import these helpers from here (not from conftest).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from idp.esia.simulator.config import SimulatorConfig
from idp.esia.upstream import EsiaUpstream, build_upstream
from idp.login import on_login
from idp.models import Guardianship, Person, Status
from idp.upstream import UpstreamError
from propusk.db import session_scope
from tests.support.servers import LiveServer

ISSUER = "http://testserver"
PARENT_OID = "1000400024"  # Волков Виктор Андреевич, father of Полина (17)


@dataclass
class Sim:
    server: LiveServer
    config: SimulatorConfig
    settings: object

    @property
    def url(self) -> str:
        return self.server.url


def upstream_for(sim: Sim, key_dir: Path, **kwargs) -> EsiaUpstream:
    overrides = kwargs.pop("settings", {})
    settings = sim.settings.model_copy(update=overrides)
    return build_upstream(settings, key_dir=key_dir, **kwargs)


def make_connector_app(upstream: EsiaUpstream, runtime=None) -> FastAPI:
    """Start and callback routes as the OIDC layer would call them (sync, threadpool)."""
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


def identity_rows(runtime) -> tuple[int, int, int]:
    """Persons, statuses and guardianships: what a failed login must not change."""
    with session_scope(runtime.sessionmaker) as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (Person, Status, Guardianship)
        )
