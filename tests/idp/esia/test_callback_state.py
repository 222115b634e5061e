"""A hostile ``state`` on the ESIA callback is a failed login (Russian page, 400), not a 500.

The connector names its pending-login cookie after the state it made (a UUID4); a callback
whose state is anything else — spaces, ``;``, ``,``, ``(``, 5,000 characters — matches no login,
and must not reach the cookie jar as a cookie name (``http.cookies`` refuses such names).
Through the app's real route, with the simulator as the upstream.
"""

from __future__ import annotations

import pytest

from idp.esia.upstream import COOKIE_PREFIX

HOSTILE_STATES = ["a b", "x;y", "(", ",", "s" * 5000, 'q"uote', "a=b", "\\", "ü"]


@pytest.mark.parametrize("state", HOSTILE_STATES, ids=lambda s: repr(s[:8]))
@pytest.mark.parametrize(
    "outcome",
    [{"code": "some-code"}, {"error": "access_denied", "error_description": "no"}],
    ids=["code", "error"],
)
def test_a_malformed_state_is_the_state_mismatch_page(client, state, outcome):
    r = client.get("/login/esia/callback", params={"state": state, **outcome})
    assert r.status_code == 400, r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    assert "Вход не выполнен" in r.text
    if "code" in outcome:
        assert "state не совпадает" in r.text
    assert COOKIE_PREFIX not in r.headers.get("set-cookie", "")


def test_a_malformed_state_with_a_cookie_of_that_name_is_refused(client):
    """Even when the browser sends a cookie under the hostile name, it is not unsealed."""
    state = "x y"
    client.cookies.set(COOKIE_PREFIX + "x", "junk")
    r = client.get("/login/esia/callback", params={"state": state, "code": "c"})
    assert r.status_code == 400 and "state не совпадает" in r.text


def test_a_well_formed_unknown_state_is_still_a_state_mismatch(client):
    r = client.get(
        "/login/esia/callback",
        params={"state": "0b6c5f6e-3a53-4c1d-9f5e-2f6c1d9b7a10", "code": "c"},
    )
    assert r.status_code == 400 and "state не совпадает" in r.text


def test_a_replayed_failed_callback_is_audited_once(client, runtime):
    """``login.failed`` is written for a login we started, once: replaying the callback with
    the same pending-login cookie (valid for its whole TTL: the route's ``delete_cookie`` is
    only advice to an honest browser) must not add an audit row per request — one
    rate-limited ``/login`` would otherwise let an anonymous caller grow the audit tree
    without bound."""
    from sqlalchemy import func, select

    from audit.models import AuditEvent
    from propusk.db import session_scope

    def failed_logins() -> int:  # the database is the worker's: other tests' rows are there
        with session_scope(runtime.sessionmaker) as s:
            return s.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.event_type == "login.failed")
            )

    before = failed_logins()
    start = client.get("/login", params={"next": "/cabinet"}, follow_redirects=False)
    assert start.status_code == 302, start.text
    cookie = next(c for c in client.cookies.jar if c.name.startswith(COOKIE_PREFIX))
    state = cookie.name[len(COOKIE_PREFIX) :]
    for _ in range(5):
        client.cookies.set(cookie.name, cookie.value)
        r = client.get("/login/esia/callback", params={"state": state, "error": "access_denied"})
        assert r.status_code == 400, r.text[:300]
    assert failed_logins() - before == 1
