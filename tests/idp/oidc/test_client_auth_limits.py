"""Failed client authentications are limited at the OAuth endpoints (issue 16): per IP (refused
before any check) and per client (a wrong-secret flood gets 429, the right secret still
passes), counted together by two real instances on one PostgreSQL and one Redis, answered with
an OAuth error body and ``Retry-After`` by the token lane and the Authlib routes alike, and
still limited — in process — when Redis is away."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.idp.oidc.helpers import make_client
from tests.support.servers import start_live_server

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def two_instances(pg_url):
    """Two separately built apps (own runtime, caches, limiter) on one database and one Redis."""
    prefix = f"test-{uuid.uuid4().hex[:10]}:"
    limits = {
        "redis_url": REDIS_URL,
        "redis_prefix": prefix,
        "rate_client_auth_failures_ip": "4/60",
        "rate_client_auth_failures": "1000/60",
    }
    first, rt = start_live_server(pg_url, **limits)
    second, rt2 = start_live_server(pg_url, **limits)
    yield first.url, second.url, rt
    for server, runtime in ((first, rt), (second, rt2)):
        server.stop()
        runtime.dispose()


def _secret_client(rt) -> tuple[str, str]:
    return make_client(
        rt, grant_types=["client_credentials"], redirect_uris=[], scopes=["consent.read"]
    )


def _token(base: str, client_id: str, secret: str) -> httpx.Response:
    return httpx.post(
        base + "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=10,
    )


def _assert_too_many(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"] == "temporarily_unavailable"
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.headers["cache-control"] == "no-store"


def test_failures_from_one_ip_are_counted_by_both_instances(two_instances):
    first, second, rt = two_instances
    client_id, secret = _secret_client(rt)
    answers = [_token((first, second)[i % 2], client_id, "wrong").status_code for i in range(4)]
    assert answers == [401, 401, 401, 401]
    # the fifth failure, on either instance, is over the shared budget
    _assert_too_many(_token(second, client_id, "wrong"))
    _assert_too_many(_token(first, client_id, "wrong"))
    # an instance that refused the peer refuses it before checking anything, right secret too
    _assert_too_many(_token(first, client_id, secret))


def test_the_authlib_routes_count_into_the_same_budget(two_instances):
    """introspection (Authlib, not the lane) and the token lane share one per-IP count."""
    first, second, rt = two_instances
    client_id, _ = _secret_client(rt)
    for _ in range(2):
        answer = httpx.post(
            second + "/oauth2/introspect", data={"token": "x"}, auth=(client_id, "wrong")
        )
        assert answer.status_code == 401
    for _ in range(2):
        assert _token(first, client_id, "wrong").status_code == 401
    refused = httpx.post(second + "/oauth2/introspect", data={"token": "x"}, auth=(client_id, "no"))
    _assert_too_many(refused)
    _assert_too_many(_token(first, client_id, "wrong"))


def _app_client(db_url, **limits):
    from fastapi.testclient import TestClient

    from propusk.app import create_app
    from propusk.runtime import build_runtime
    from tests.support.settings import make_settings

    rt = build_runtime(make_settings(db_url, **limits))
    return rt, TestClient(create_app(runtime=rt), base_url="http://testserver")


def test_a_flood_of_wrong_secrets_never_locks_the_right_one_out(db_url):
    rt, client = _app_client(
        db_url, rate_client_auth_failures="3/60", rate_client_auth_failures_ip="1000/60"
    )
    with client:
        client_id, secret = _secret_client(rt)
        form = {"grant_type": "client_credentials"}
        wrong = [client.post("/oauth2/token", data=form, auth=(client_id, "x")) for _ in range(5)]
        assert [r.status_code for r in wrong] == [401, 401, 401, 429, 429]
        _assert_too_many(wrong[-1])
        assert client.post("/oauth2/token", data=form, auth=(client_id, secret)).status_code == 200
        # client_secret_post through the same lane: counted under the same client
        posted = client.post(
            "/oauth2/token", data={**form, "client_id": client_id, "client_secret": "x"}
        )
        _assert_too_many(posted)
    rt.dispose()


def test_redis_away_still_limits_in_process_and_serves(db_url):
    rt, client = _app_client(
        db_url,
        redis_url="redis://127.0.0.1:1/0",
        rate_client_auth_failures_ip="2/60",
        rate_client_auth_failures="1000/60",
    )
    with client:
        client_id, _ = _secret_client(rt)
        form = {"grant_type": "client_credentials"}
        codes = [
            client.post("/oauth2/token", data=form, auth=(client_id, "x")).status_code
            for _ in range(3)
        ]
        assert codes == [401, 401, 429]
        assert rt.limiter.degraded_events >= 1 and not rt.limiter.shared
    rt.dispose()


def test_a_mistyped_limit_stops_the_start():
    from pydantic import ValidationError

    from propusk.settings import Settings

    with pytest.raises(ValidationError):
        Settings(rate_client_auth_failures="twenty")
    with pytest.raises(ValidationError):
        Settings(rate_client_auth_failures_ip="0/60")


def test_login_starts_per_ip_share_one_budget_and_get_a_russian_page(db_url):
    """Propusk's own login and a relying party's authorization start logins through one
    function: a flood of either is refused with a Russian page, 429 and Retry-After."""
    from tests.idp.oidc.helpers import REDIRECT, pkce

    rt, client = _app_client(db_url, rate_login_starts_ip="3/60")
    with client:
        client_id, _ = make_client(rt)
        _, challenge = pkce()
        authorize = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "scope": "openid",
            "state": "s",
            "nonce": "n",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        first = client.get("/login", params={"next": "/cabinet"}, follow_redirects=False)
        second = client.get("/oauth2/authorize", params=authorize, follow_redirects=False)
        third = client.get("/login", follow_redirects=False)
        assert {first.status_code, second.status_code, third.status_code} <= {200, 302, 303}
        refused = client.get("/oauth2/authorize", params=authorize, follow_redirects=False)
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("text/html")
        assert "Слишком много попыток входа" in refused.text
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert client.get("/login", follow_redirects=False).status_code == 429
    rt.dispose()


def test_the_addresses_of_one_ipv6_network_share_one_budget():
    """An IPv6 host is handed a whole /64 (2^64 addresses): keyed by the full address, the
    per-IP limit let a peer send each failure from a new address and never wait. The /64 is
    the peer; an IPv4 address is still itself."""
    from idp.oidc.clientauth import AuthFailures
    from propusk.ratelimit import RateLimiter
    from tests.support.settings import make_settings

    settings = make_settings("sqlite://", rate_client_auth_failures_ip="3/60")
    failures = AuthFailures(RateLimiter(None), settings)
    waits = [failures.failed(None, f"2001:db8:1:2::{n:x}") for n in range(1, 6)]
    assert waits[-1] is not None, waits
    assert failures.refused("2001:db8:1:2:ffff::1") is not None
    assert failures.refused("2001:db8:1:3::1") is None  # another network
    ipv4 = [failures.failed(None, f"198.51.100.{n}") for n in range(1, 6)]
    assert ipv4 == [None] * 5  # five hosts, one failure each
