"""Who may act for a person (issue 12): scopes, the consent screen, remembered grants,
introspection, one client authentication, CSRF, logout, max_age/acr, response_mode and short
client assertions. Over real HTTP (a live server) with logins through the ESIA simulator, on
SQLite and PostgreSQL."""

from __future__ import annotations

import time
import uuid
from urllib.parse import urlencode

import httpx
import pytest
from jose import jwt as jose_jwt
from joserfc import jwt
from joserfc.jwk import ECKey

from idp.oidc import clients
from policies.delegation import ALL_SCOPES, PERSONAL_ACTS, RESOURCE_SCOPES
from propusk.db import session_scope
from tests.browsing import authorize, choose_person, to_screen
from tests.idp.oidc.helpers import (
    REDIRECT,
    answer_consent_screen,
    authorize_params,
    exchange,
    first_party,
    hidden_fields,
    make_client,
    pkce,
    query_of,
)

PERSON = "1000400016"  # Смирнов Дмитрий: a parent with a confirmed ESIA account
OTHER = "1000400017"  # Смирнова Ольга
READS = "openid profile consents.read transfers.read"


@pytest.fixture
def live(sim_server):
    """A real server with the ESIA simulator mounted and its demo people."""
    return sim_server


@pytest.fixture
def rt(live):
    return live[1]


@pytest.fixture
def http(live):
    with httpx.Client(base_url=live[0], timeout=60) as browser:
        yield browser


def _url(http) -> str:
    return str(http.base_url).rstrip("/")


def _origin(http) -> dict:
    return {"Origin": _url(http)}


def _go(http, client_id, **extra):
    """The authorization request as the browser sends it (redirects not followed)."""
    _, challenge = pkce()
    url = "/oauth2/authorize?" + urlencode(authorize_params(client_id, challenge, **extra))
    return to_screen(http, _url(http), http.get(url, follow_redirects=False))


def _login(http, client_id, oid=PERSON, **extra):
    """The authorization request; logs in through the simulator when needed; returns what
    Propusk answers then (the consent screen, or the redirect to the relying party)."""
    r = _go(http, client_id, **extra)
    if r.status_code == 302 and "/esia-sim/" in r.headers["location"]:
        back = choose_person(http, r.headers["location"], oid)
        r = to_screen(http, _url(http), http.get(back.headers["location"]))
    return r


def _tokens(http, client_id, secret, oid=PERSON, scope="openid profile email", **extra) -> dict:
    query, verifier = authorize(http, _url(http), client_id, REDIRECT, oid, scope, **extra)
    r = exchange(http, client_id, secret, query["code"], verifier)
    assert r.status_code == 200, r.text
    return r.json()


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_discovery_publishes_the_scope_vocabulary(http):
    doc = http.get("/.well-known/openid-configuration").json()
    assert set(ALL_SCOPES) <= set(doc["scopes_supported"])
    assert doc["response_modes_supported"] == ["query"]
    assert "urn:propusk:acr:esia:confirmed" in doc["acr_values_supported"]
    assert "acr" in doc["claims_supported"]
    assert not any(PERSONAL_ACTS & pairs for pairs in RESOURCE_SCOPES.values())


def test_consent_screen_deny_allow_remember_and_prompts(http, rt):
    client_id, secret = make_client(rt, name="Электронный дневник «Школа+»")
    screen = _login(http, client_id, state="s1")
    assert screen.status_code == 200
    assert "Электронный дневник «Школа+»" in screen.text
    assert "фамилия, имя, отчество" in screen.text and "адрес электронной почты" in screen.text
    assert "сведения о детях" not in screen.text  # not asked for
    assert "rp.example" in screen.text  # where the person goes back to
    assert screen.text.count("статусы в школах") == 1  # profile brings them: said once
    again_screen = http.get(str(screen.url))  # a reload shows the screen again
    assert again_screen.status_code == 200 and "Разрешить" in again_screen.text
    denied = answer_consent_screen(http, screen, "deny")
    q = query_of(denied.headers["location"])
    assert (q["error"], q["state"], q["iss"]) == ("access_denied", "s1", _url(http))

    # allowed once: the same scopes come back without the screen
    allowed = answer_consent_screen(http, _go(http, client_id), "allow")
    assert "code" in query_of(allowed.headers["location"])
    again = _go(http, client_id)
    assert again.status_code == 302 and "code" in query_of(again.headers["location"])
    # prompt=consent asks again; more scopes ask again; prompt=none cannot ask
    assert _go(http, client_id, prompt="consent").status_code == 200
    more = _go(http, client_id, scope="openid profile email school")
    assert more.status_code == 200 and "статусы в школах" in more.text
    silent = _go(http, client_id, scope="openid school", prompt="none")
    assert query_of(silent.headers["location"])["error"] == "consent_required"
    # the screen's answer is bound to its session, once, with the CSRF token, same origin
    screen = _go(http, client_id, prompt="consent")
    fields = hidden_fields(screen.text)
    forged = http.post(
        "/oauth2/authorize/decision",
        data={**fields, "decision": "allow"},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    missing = http.post(
        "/oauth2/authorize/decision",
        data={"txn": fields["txn"], "decision": "allow"},
        headers=_origin(http),
        follow_redirects=False,
    )
    assert missing.status_code == 403
    # another person's browser cannot open this screen or answer it with its own CSRF token
    with httpx.Client(base_url=_url(http), timeout=60) as someone:
        _tokens(someone, client_id, secret, oid=OTHER)
        assert someone.get(str(screen.url)).status_code == 400
        theirs = {**fields, "csrf_token": first_party(someone)["X-CSRF-Token"], "decision": "allow"}
        stolen = someone.post("/oauth2/authorize/decision", data=theirs, follow_redirects=False)
        assert stolen.status_code == 400 and "location" not in stolen.headers
    ok = answer_consent_screen(http, screen, "allow")
    assert ok.status_code == 302
    replay = answer_consent_screen(http, screen, "allow")
    assert replay.status_code == 400  # the parked request was used


def test_first_party_client_skips_the_screen(http, rt):
    with session_scope(rt.sessionmaker) as s:
        row, _ = clients.create_client(
            s,
            name="Кабинет Пропуска",
            grant_types=["authorization_code"],
            redirect_uris=[REDIRECT],
            first_party=True,
        )
    r = _login(http, row.client_id)
    assert r.status_code == 302 and "code" in query_of(r.headers["location"])


def test_refresh_tokens_only_with_offline_access_and_revoked_with_the_app(http, rt):
    client_id, secret = make_client(rt)
    plain = _tokens(http, client_id, secret, scope="openid profile")
    assert "refresh_token" not in plain
    offline = _tokens(http, client_id, secret, scope="openid profile offline_access")
    assert offline["refresh_token"]
    first_party(http)
    apps = http.get("/api/v1/me/applications").json()
    mine = next(a for a in apps if a["client_id"] == client_id)
    assert set(mine["scopes"]) >= {"openid", "profile", "offline_access"}
    assert mine["last_token_at"] >= mine["granted_at"]  # when it last got a token for them
    assert any("пока вы не отзовёте доступ" in t for t in mine["scope_texts"])
    with httpx.Client(base_url=_url(http), timeout=60) as someone:  # only one's own grants
        _tokens(someone, client_id, secret, oid=OTHER, scope="openid")
        first_party(someone)
        assert someone.get("/api/v1/me/applications").json()[0]["scopes"] == ["openid"]
        someone.delete(f"/api/v1/me/applications/{client_id}")  # revokes theirs, not mine
    assert client_id in [a["client_id"] for a in http.get("/api/v1/me/applications").json()]
    out = http.delete(f"/api/v1/me/applications/{client_id}")
    assert out.status_code == 200 and out.json()["token_families_revoked"] >= 1
    refresh = http.post(
        "/oauth2/token",
        auth=(client_id, secret),
        data={"grant_type": "refresh_token", "refresh_token": offline["refresh_token"]},
    )
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"
    gone = http.get("/oauth2/userinfo", headers=_bearer(offline["access_token"]))
    assert gone.status_code == 401
    assert client_id not in [a["client_id"] for a in http.get("/api/v1/me/applications").json()]
    # the next authorization asks again
    assert _go(http, client_id).status_code == 200


def test_a_relying_partys_token_is_held_to_its_scopes(http, rt):
    client_id, secret = make_client(
        rt, scopes=["openid", "profile", "consents.read", "transfers.read", "data.read"]
    )
    narrow = _tokens(http, client_id, secret, scope="openid profile")["access_token"]
    reads = _tokens(http, client_id, secret, scope=READS)["access_token"]
    for path in ("/api/v1/me/consents", "/api/v1/me/transfers", "/api/v1/me/data"):
        r = http.get(path, headers=_bearer(narrow))
        assert r.status_code == 403 and r.json()["type"].endswith("/insufficient-scope"), r.text
        assert 'error="insufficient_scope"' in r.headers["www-authenticate"]
    assert http.get("/api/v1/me/consents", headers=_bearer(reads)).status_code == 200
    assert http.get("/api/v1/me/transfers", headers=_bearer(reads)).status_code == 200
    assert http.get("/api/v1/me/data", headers=_bearer(reads)).status_code == 403  # no data.read
    # never delegable, whatever the scopes: own profile API, demands, signing, applications
    consent_id = uuid.uuid4()
    for method, path in (
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/session"),
        ("GET", "/api/v1/me/applications"),
        ("GET", f"/api/v1/consents/{consent_id}/document"),
        ("POST", f"/api/v1/consents/{consent_id}/approve"),
        ("POST", f"/api/v1/consents/{consent_id}/refuse"),
        ("POST", f"/api/v1/consents/{consent_id}/withdraw"),
        ("POST", f"/api/v1/consents/{consent_id}/suspend"),
        ("POST", "/api/v1/me/access-requests"),
        ("POST", "/api/v1/me/obligations/stop-processing"),
    ):
        r = http.request(method, path, headers=_bearer(reads), json={})
        assert r.status_code == 403, (path, r.text)
        assert r.json()["type"].endswith("/not-delegable"), (path, r.text)
    # the same person in Propusk's own pages
    first_party(http)
    for path in ("/api/v1/me", "/api/v1/me/consents", "/api/v1/me/data", "/api/v1/session"):
        assert http.get(path).status_code == 200, path


def test_introspection_answers_only_for_own_and_served_clients(http, rt):
    rp_id, rp_secret = make_client(rt)
    user_token = _tokens(http, rp_id, rp_secret)["access_token"]
    operator_id, operator_secret = make_client(
        rt, grant_types=["client_credentials"], redirect_uris=[], role="operator"
    )
    api_id, api_secret = make_client(
        rt, grant_types=["client_credentials"], redirect_uris=[], resource_server_for=[rp_id]
    )

    def introspect(token, who):
        r = http.post("/oauth2/introspect", data={"token": token}, auth=who)
        assert r.status_code == 200, r.text
        return r.json()

    assert introspect(user_token, (rp_id, rp_secret))["active"] is True
    assert introspect(user_token, (operator_id, operator_secret)) == {"active": False}
    served = introspect(user_token, (api_id, api_secret))
    assert served["active"] is True and served["client_id"] == rp_id

    # a deleted client's client_credentials token: inactive here, 401 at the API — alike
    gone_id, gone_secret = make_client(
        rt, grant_types=["client_credentials"], redirect_uris=[], role="operator"
    )
    token = http.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(gone_id, gone_secret)
    ).json()["access_token"]
    before = introspect(token, (gone_id, gone_secret))
    assert before["active"] is True
    with session_scope(rt.sessionmaker) as s:
        clients.delete_client(s, gone_id)
    with session_scope(rt.sessionmaker) as s:
        clients.create_client(  # a resource server for the deleted client, to ask about it
            s,
            name="watcher",
            grant_types=["client_credentials"],
            resource_server_for=[gone_id],
        )
    assert http.get("/api/v1/consent/feed", headers=_bearer(token)).status_code == 401
    assert introspect(token, (api_id, api_secret)) == {"active": False}


def test_one_client_authentication_for_the_fast_lane_and_authlib(http, rt):
    """A secret client authenticates the same way on the client_credentials lane and on
    Authlib's endpoints: registered method only, right secret only."""
    basic_id, basic_secret = make_client(
        rt, grant_types=["client_credentials"], redirect_uris=[], auth_method="client_secret_basic"
    )
    post_id, post_secret = make_client(
        rt, grant_types=["client_credentials"], redirect_uris=[], auth_method="client_secret_post"
    )

    def lane(data=None, auth=None):
        return http.post(
            "/oauth2/token", data={"grant_type": "client_credentials", **(data or {})}, auth=auth
        )

    def authlib(data=None, auth=None):  # introspection runs Authlib's client authentication
        return http.post("/oauth2/introspect", data={"token": "x", **(data or {})}, auth=auth)

    cases = [
        ({}, (basic_id, basic_secret), 200),
        ({}, (basic_id, "wrong"), 401),
        ({"client_id": basic_id, "client_secret": basic_secret}, None, 400),  # not its method
        ({"client_id": post_id, "client_secret": post_secret}, None, 200),
        ({}, (post_id, post_secret), 401),  # not its method
        ({"client_id": post_id, "client_secret": "wrong"}, None, 400),
        ({}, ("nobody", "x"), 401),
        ({"client_id": "nobody", "client_secret": "x"}, None, 400),
    ]
    for data, auth, status in cases:
        a, b = lane(data, auth), authlib(data, auth)
        assert a.status_code == status, (data, auth, a.text)
        assert b.status_code == status, (data, auth, b.text)
        if status != 200:
            assert a.json()["error"] == b.json()["error"] == "invalid_client"


def test_cookie_state_changes_need_the_csrf_token_and_our_origin(http, rt):
    client_id, secret = make_client(rt)
    _tokens(http, client_id, secret)  # logged in (cookie)
    token = http.get("/api/v1/session").json()["csrf_token"]
    path = f"/api/v1/me/applications/{client_id}"
    assert http.delete(path).status_code == 403  # neither
    assert http.delete(path, headers=_origin(http)).json()["type"].endswith("/csrf-failed")
    evil = {"Origin": "https://evil.example", "X-CSRF-Token": token}
    assert http.delete(path, headers=evil).json()["type"].endswith("/foreign-origin")
    null = {"Origin": "null", "X-CSRF-Token": token}
    assert http.delete(path, headers=null).status_code == 403
    assert http.delete(path, headers={"X-CSRF-Token": token}).status_code == 403  # no origin
    referer = {"Referer": _url(http) + "/cabinet", "X-CSRF-Token": token}
    assert http.delete(path, headers=referer).status_code == 200
    wrong = {**_origin(http), "X-CSRF-Token": token[:-1] + ("0" if token[-1] != "0" else "1")}
    assert http.delete(path, headers=wrong).status_code == 403


def test_logout_without_a_valid_hint_asks_the_person(http, rt):
    client_id, secret = make_client(rt)
    tokens = _tokens(http, client_id, secret)
    page = http.get("/oauth2/logout", follow_redirects=False)
    assert page.status_code == 200 and "Выйти из Пропуска?" in page.text
    assert http.get("/api/v1/session").status_code == 200  # still logged in
    fields = hidden_fields(page.text)
    foreign = http.post("/oauth2/logout", data=fields, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 200 and "Выйти из Пропуска?" in foreign.text
    assert http.get("/api/v1/session").status_code == 200
    # another person's ID token as the hint: asked too
    with httpx.Client(base_url=_url(http), timeout=60) as someone:
        other = _tokens(someone, client_id, secret, oid=OTHER)["id_token"]
    hinted = http.get("/oauth2/logout", params={"id_token_hint": other}, follow_redirects=False)
    assert hinted.status_code == 200 and "Выйти из Пропуска?" in hinted.text
    # the person's own ID token: the RP-initiated logout ends the session at once
    done = http.get(
        "/oauth2/logout", params={"id_token_hint": tokens["id_token"]}, follow_redirects=False
    )
    assert done.status_code == 200 and "Вы вышли" in done.text
    assert http.get("/api/v1/session").status_code == 401


def test_max_age_auth_time_and_acr(http, rt):
    client_id, secret = make_client(rt)
    tokens = _tokens(http, client_id, secret)
    claims = jose_jwt.get_unverified_claims(tokens["id_token"])
    assert claims["acr"] == "urn:propusk:acr:esia:confirmed" and claims["amr"] == ["pwd"]
    assert abs(claims["auth_time"] - time.time()) < 120
    # a login older than max_age logs in again (back to ESIA, not a code)
    relogin = _go(http, client_id, max_age="0")
    assert relogin.status_code == 302 and "/esia-sim/" in relogin.headers["location"]
    fresh = _go(http, client_id, max_age="3600")  # a recent login is kept
    assert fresh.status_code == 302 and "code" in query_of(fresh.headers["location"])
    bad = _go(http, client_id, max_age="soon")
    assert query_of(bad.headers["location"])["error"] == "invalid_request"


@pytest.mark.parametrize("mode", ["form_post", "fragment", "web_message"])
def test_response_modes_other_than_query_are_refused(http, rt, mode):
    client_id, _ = make_client(rt)
    r = _go(http, client_id, response_mode=mode)
    assert r.status_code == 400 and "text/html" in r.headers["content-type"]
    assert "response_mode" in r.text and "location" not in r.headers


def test_long_lived_client_assertions_are_refused(http, rt):
    key = ECKey.generate_key("P-256", private=True)
    client_id, _ = make_client(
        rt,
        grant_types=["client_credentials"],
        redirect_uris=[],
        auth_method="private_key_jwt",
        jwks={"keys": [dict(key.as_dict(private=False), kid="k1", alg="ES256")]},
    )
    now = int(time.time())

    def assertion(**claims):
        body = {
            "iss": client_id,
            "sub": client_id,
            "aud": _url(http) + "/oauth2/token",
            "iat": now,
            "exp": now + 60,
            "jti": uuid.uuid4().hex,
            **claims,
        }
        return jwt.encode({"alg": "ES256", "kid": "k1"}, body, key)

    def token(a):
        return http.post(
            "/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": a,
            },
        )

    assert token(assertion(exp=now + 3600)).json()["error"] == "invalid_client"
    assert token(assertion(iat=now - 290, exp=now + 20)).json()["error"] == "invalid_client"
    assert token(assertion()).status_code == 200
