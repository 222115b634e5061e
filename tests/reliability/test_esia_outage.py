"""ESIA slow or down (issue 16, Faults): a login fails after the bounded wait of
``esia_timeout`` / ``esia_connect_timeout`` with a Russian page that says Госуслуги do not
answer (503, ``Retry-After``, a way back) — not a 500, not a hang — and is audited without
secrets; meanwhile health, the token endpoint and a logged-in page keep answering.

ESIA here is a real socket: one that accepts and never answers (slow), then a closed port
(down), configured as the simulator's URL of a real server over HTTP."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from audit.models import AuditEvent
from idp.esia.upstream import build_upstream
from idp.oidc.principal import SESSION_COOKIE
from propusk.db import session_scope
from tests.support.faults import (
    DribblingPeer,
    SilentPeer,
    seed_load_world,
    server_with_esia_at,
)
from tests.support.settings import make_settings


@contextmanager
def _site_with_esia(database_url: str, peer: SilentPeer, **timeouts: float):
    """A live site whose ESIA is ``peer``: (url, runtime, peer); all three stopped after."""
    server, rt = server_with_esia_at(database_url, peer, **timeouts)
    try:
        yield server.url, rt, peer
    finally:
        server.stop()
        rt.dispose()
        peer.close()


@pytest.fixture
def esia_down(fresh_pg):
    # long enough for the three requests below to be served while the login waits, on a
    # loaded CI machine too (2 s was not: the login had given up before they were answered)
    with _site_with_esia(fresh_pg(), SilentPeer(), timeout=8.0) as site:
        yield site


def _start_login(url: str, peer: SilentPeer) -> tuple[httpx.Client, str]:
    """``/login`` sends the browser to ESIA (the silent peer) with the pending-login cookie:
    the browser and the callback URL ESIA would send it back to with a code."""
    browser = httpx.Client(base_url=url, timeout=30)
    r = browser.get("/login", params={"next": "/cabinet"})
    assert r.status_code == 302 and r.headers["location"].startswith(peer.url), r.text
    state = parse_qs(urlsplit(r.headers["location"]).query)["state"][0]
    secret_code = "esia-code-that-must-not-be-logged"
    return browser, f"/login/esia/callback?state={state}&code={secret_code}"


def _failed_logins(rt) -> list[bytes]:
    with session_scope(rt.sessionmaker) as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.event_type == "login.failed"))
        return [row.leaf for row in rows]


def test_slow_then_down_esia_fails_the_login_with_a_russian_page(esia_down):
    url, rt, peer = esia_down
    world = seed_load_world(rt, people=1)
    _, cookie = world.people[0]

    # slow: ESIA accepts the token exchange's connection and never answers
    browser, callback = _start_login(url, peer)
    answers: list[httpx.Response] = []
    waiting = threading.Thread(target=lambda: answers.append(browser.get(callback)))
    waiting.start()
    assert peer.accepted.wait(10)  # the callback is now waiting for ESIA
    # … and everything else keeps answering meanwhile
    assert httpx.get(url + "/healthz").status_code == 200
    token = httpx.post(
        url + "/oauth2/token", auth=world.operator_client, data={"grant_type": "client_credentials"}
    )
    assert token.status_code == 200 and token.json()["access_token"], token.text
    cabinet = httpx.get(url + "/cabinet", cookies={SESSION_COOKIE: cookie})
    assert cabinet.status_code == 200 and "Личный кабинет" in cabinet.text
    assert waiting.is_alive()  # the three above were served while the login still waited
    waiting.join(30)
    browser.close()
    slow = answers[0]
    assert slow.status_code == 503 and slow.headers["retry-after"].isdigit(), slow.text
    assert slow.headers["content-type"].startswith("text/html")
    assert "Госуслуги не отвечают" in slow.text and "не ответили вовремя" in slow.text
    assert 'href="/login?next=%2Fcabinet"' in slow.text and "esia." not in slow.text
    assert "Traceback" not in slow.text

    # down: nothing listens on ESIA's port any more
    peer.close()
    browser, callback = _start_login(url, peer)
    down = browser.get(callback)
    browser.close()
    assert down.status_code == 503 and "Госуслуги не отвечают" in down.text, down.text
    assert "недоступны" in down.text and "не ответили вовремя" not in down.text

    # both failures audited: the code and the upstream, never the code ESIA would have sent
    leaves = _failed_logins(rt)
    assert any(b"esia.timeout" in leaf for leaf in leaves)
    assert any(b"esia.unreachable" in leaf for leaf in leaves)
    assert not any(b"esia-code-that-must-not-be-logged" in leaf for leaf in leaves)


def test_the_esia_client_waits_as_the_settings_say():
    """The bound the page above comes after: every call to ESIA (token exchange, certificate,
    REST) goes through the upstream's one client, built with the settings' timeouts."""
    settings = make_settings("sqlite://", esia_connect_timeout=0.7, esia_timeout=4.5)
    upstream = build_upstream(settings)
    assert upstream.http.timeout == httpx.Timeout(4.5, connect=0.7)
    assert upstream.client.http is upstream.http
    default = build_upstream(make_settings("sqlite://")).http.timeout
    assert (default.connect, default.read) == (3.0, 10.0)
    assert upstream.deadline == 20.0  # esia_login_deadline's default: all of one callback


@pytest.fixture
def esia_drips(fresh_pg):
    with _site_with_esia(
        fresh_pg(), DribblingPeer(interval=0.3), timeout=2.0, deadline=3.0
    ) as site:
        yield site


def test_an_esia_that_drips_is_cut_at_the_login_deadline(esia_drips):
    """ESIA answers the token exchange a byte every 0.3 s: no read ever waits the 2 s of
    ``esia_timeout``, so only the callback's deadline (3 s) ends it — with the same Russian
    page. Without it the login would hold the person and a worker for the 100,000 bytes (8 h)."""
    url, rt, peer = esia_drips
    browser, callback = _start_login(url, peer)
    started = time.monotonic()
    answer = browser.get(callback)
    waited = time.monotonic() - started
    browser.close()
    assert answer.status_code == 503 and "Госуслуги не отвечают" in answer.text, answer.text
    assert "не ответили вовремя" in answer.text
    assert 3.0 <= waited < 3.0 + 2.0 + 3.0, waited  # the deadline, one cut read, a loaded CI
    assert any(b"esia.timeout" in leaf for leaf in _failed_logins(rt))
