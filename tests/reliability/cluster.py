"""Two separately started ``propusk serve`` instances on one PostgreSQL database and one Redis
prefix, as production runs them behind a load balancer: one issuer (the balancer's URL; here the
first instance's), one key-encryption key and session secret, everything else — caches,
sequencer thread, pull batcher, policy engine, limiter — per process.

The test process writes the starting rows (clients, people, consents) through the services on
its own runtime, and logs people in as the login callback does (a login session row and its
cookie): the instances see only what is in the database, as they would after a real login.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import httpx
from sqlalchemy import text

from idp import login, statuses
from idp.oidc import csrf, logins
from idp.oidc.principal import SESSION_COOKIE
from idp.upstream import UpstreamIdentity
from propusk.crypto import token_hash
from propusk.db import session_scope
from propusk.runtime import Runtime
from tests.support.processes import ServerProcess


@dataclass
class Cluster:
    a: ServerProcess
    b: ServerProcess
    rt: Runtime  # the test's own runtime on the same database (setup and inspection)
    database_url: str
    issuer: str
    redis_prefix: str


def converge(check: Callable[[], bool], deadline: float = 15.0, step: float = 0.02) -> float:
    """Seconds until ``check()`` holds (polled every ``step``); AssertionError past the deadline.
    The deadline bounds the wait, it is not a performance figure."""
    started = time.monotonic()
    while True:
        if check():
            return time.monotonic() - started
        if time.monotonic() - started > deadline:
            raise AssertionError(f"did not converge within {deadline} s")
        time.sleep(step)


def person(rt: Runtime, born: date = date(1990, 5, 17)) -> tuple[uuid.UUID, str]:
    """A person as the login callback leaves them (real idp code): (id, ESIA oid)."""
    oid = str(uuid.uuid4().int)[:12]
    identity = UpstreamIdentity(
        esia_oid=oid, last_name="Ковалёва", first_name="Ирина", birth_date=born, trusted=True
    )
    with session_scope(rt.sessionmaker) as session:
        return login.on_login(session, identity, settings=rt.settings).id, oid


@dataclass(frozen=True)
class PageLogin:
    """A person logged in to Propusk's own pages: the cookie, the CSRF token and the origin a
    page's script sends with a state change."""

    cookies: dict[str, str]
    headers: dict[str, str]


def page_login(rt: Runtime, person_id: uuid.UUID, issuer: str) -> PageLogin:
    """The login cookie of a fresh, confirmed ESIA login (what the callback sets)."""
    with session_scope(rt.sessionmaker) as session:
        raw = logins.create_login_session(
            session, person_id, amr=["pwd"], upstream="esia", ttl=3600, confirmed=True
        )
    token = csrf.token_for(rt.settings, token_hash(raw))
    return PageLogin({SESSION_COOKIE: raw}, {csrf.HEADER: token, "Origin": issuer})


def platform_admin(rt: Runtime, issuer: str) -> PageLogin:
    """A platform administrator (granted as ``propusk people grant-platform-admin`` does),
    logged in to the console."""
    person_id, oid = person(rt)
    with session_scope(rt.sessionmaker) as session:
        statuses.grant_platform_admin(session, oid, actor="test")
    return page_login(rt, person_id, issuer)


def call(login: PageLogin, method: str, url: str, **kwargs) -> httpx.Response:
    """A request of a page's script (fresh connection: a balancer may send it anywhere)."""
    headers = {**login.headers, **kwargs.pop("headers", {})}
    return httpx.request(method, url, cookies=login.cookies, headers=headers, timeout=30, **kwargs)


def client_token(url: str, client: tuple[str, str]) -> dict[str, str]:
    """A client_credentials access token from ``url``'s token endpoint, as a bearer header."""
    r = httpx.post(url + "/oauth2/token", auth=client, data={"grant_type": "client_credentials"})
    assert r.status_code == 200, r.text
    return {"Authorization": "Bearer " + r.json()["access_token"]}


def scalar(rt: Runtime, sql: str, **params) -> object:
    with rt.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()
