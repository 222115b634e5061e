"""Authorization code + PKCE, ID token, userinfo, refresh rotation, logout — and their errors."""

from __future__ import annotations

import base64
import re
import time
from urllib.parse import urlencode

from jose import jwt as jose_jwt
from sqlalchemy import update

from idp.oidc.models import AuthorizationCode
from propusk.crypto import token_hash
from propusk.db import session_scope, utcnow
from tests.idp.oidc.helpers import (
    LOGOUT_TO,
    REDIRECT,
    authorize_params,
    code_flow,
    exchange,
    hidden_fields,
    make_client,
    pkce,
    query_of,
)


def _verify(http, token: str, **kw) -> dict:
    """python-jose as an independent verifier, with the published JWKS."""
    jwks = http.get("/jwks.json").json()
    header = jose_jwt.get_unverified_header(token)
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    return jose_jwt.decode(token, key, algorithms=[header["alg"]], issuer="http://testserver", **kw)


def test_discovery_and_jwks(http):
    doc = http.get("/.well-known/openid-configuration").json()
    assert doc["issuer"] == "http://testserver"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["authorization_response_iss_parameter_supported"] is True
    assert {"openid", "profile", "email", "school", "offline_access"} <= set(
        doc["scopes_supported"]
    )
    keys = http.get("/jwks.json").json()["keys"]
    assert {"ES256", "RS256"} <= {k["alg"] for k in keys}
    assert all("d" not in k and k["kid"] for k in keys)


OFFLINE = "openid profile email offline_access"


def test_code_flow_with_pkce_and_refresh_rotation(http, rt):
    client_id, secret = make_client(rt)
    callback, verifier, params = code_flow(http, client_id, scope=OFFLINE)
    assert callback["state"] == params["state"]
    assert callback["iss"] == "http://testserver"  # RFC 9207
    r = exchange(http, client_id, secret, callback["code"], verifier)
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert r.headers["cache-control"] == "no-store"
    id_claims = _verify(
        http, tokens["id_token"], audience=client_id, access_token=tokens["access_token"]
    )
    assert id_claims["nonce"] == params["nonce"]
    assert id_claims["family_name"] == "Петрова" and id_claims["email"] == "olga@example.org"
    assert "auth_time" in id_claims
    at = _verify(http, tokens["access_token"], audience="http://testserver")
    assert at["sub"] == id_claims["sub"] and at["client_id"] == client_id
    assert jose_jwt.get_unverified_header(tokens["access_token"])["typ"] == "at+jwt"

    info = http.get(
        "/oauth2/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]}
    )
    assert info.status_code == 200
    assert info.json()["sub"] == id_claims["sub"] and info.json()["given_name"] == "Ольга"

    r2 = http.post(
        "/oauth2/token",
        auth=(client_id, secret),
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert r2.status_code == 200, r2.text
    rotated = r2.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]

    # the old refresh token again: refused, and the whole grant is revoked
    reuse = http.post(
        "/oauth2/token",
        auth=(client_id, secret),
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    after = http.post(
        "/oauth2/token",
        auth=(client_id, secret),
        data={"grant_type": "refresh_token", "refresh_token": rotated["refresh_token"]},
    )
    assert after.json()["error"] == "invalid_grant"
    gone = http.get(
        "/oauth2/userinfo", headers={"Authorization": "Bearer " + rotated["access_token"]}
    )
    assert gone.status_code == 401 and gone.json()["error"] == "invalid_token"


def test_code_reuse_revokes_the_first_tokens(http, rt):
    client_id, secret = make_client(rt)
    callback, verifier, _ = code_flow(http, client_id, scope=OFFLINE)
    first = exchange(http, client_id, secret, callback["code"], verifier).json()
    again = exchange(http, client_id, secret, callback["code"], verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    r = http.get("/oauth2/userinfo", headers={"Authorization": "Bearer " + first["access_token"]})
    assert r.status_code == 401
    refresh = http.post(
        "/oauth2/token",
        auth=(client_id, secret),
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    assert refresh.json()["error"] == "invalid_grant"


def test_public_client_with_pkce_and_session_reuse(http, rt):
    client_id, _ = make_client(rt, auth_method="none")
    callback, verifier, _ = code_flow(http, client_id)
    r = exchange(http, client_id, None, callback["code"], verifier)
    assert r.status_code == 200, r.text
    # the login session cookie: a second authorization needs no login
    _v2, c2 = pkce()
    again = http.get(
        "/oauth2/authorize?" + urlencode(authorize_params(client_id, c2)), follow_redirects=False
    )
    assert again.status_code == 302 and "code=" in again.headers["location"]
    # prompt=none without a session (after logout) → login_required at the RP; a logout
    # without id_token_hint is confirmed by the person on Propusk's page first
    ask = http.get(
        "/oauth2/logout",
        params={"client_id": client_id, "post_logout_redirect_uri": LOGOUT_TO, "state": "s1"},
        follow_redirects=False,
    )
    assert ask.status_code == 200 and "Выйти из Пропуска?" in ask.text
    out = http.post(
        "/oauth2/logout",
        data=hidden_fields(ask.text),
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert out.status_code == 302 and out.headers["location"] == LOGOUT_TO + "?state=s1"
    none = http.get(
        "/oauth2/authorize?" + urlencode(authorize_params(client_id, c2, prompt="none")),
        follow_redirects=False,
    )
    q = query_of(none.headers["location"])
    assert q["error"] == "login_required" and q["iss"] == "http://testserver"


def test_authorization_errors(http, rt):
    client_id, _secret = make_client(rt)
    _, challenge = pkce()

    def go(**extra):
        return http.get(
            "/oauth2/authorize?" + urlencode(authorize_params(client_id, challenge, **extra)),
            follow_redirects=False,
        )

    # a redirect_uri not registered exactly: no redirect, an HTML page in Russian
    for bad in (REDIRECT + "/", REDIRECT + "?x=1", "https://evil.example/cb"):
        r = go(redirect_uri=bad)
        assert r.status_code == 400 and "text/html" in r.headers["content-type"]
        assert "Ошибка входа" in r.text
    # unknown client: HTML too
    r = http.get("/oauth2/authorize?" + urlencode(authorize_params("nope", challenge)))
    assert r.status_code == 400 and "Ошибка" in r.text
    # missing PKCE and plain PKCE: invalid_request back at the RP, with state and iss
    missing = http.get(
        "/oauth2/authorize?" + urlencode(authorize_params(client_id, None, state="st")),
        follow_redirects=False,
    )
    q = query_of(missing.headers["location"])
    assert (q["error"], q["state"], q["iss"]) == ("invalid_request", "st", "http://testserver")
    plain = go(code_challenge_method="plain", state="st2")
    q = query_of(plain.headers["location"])
    assert q["error"] == "invalid_request" and q["state"] == "st2"
    no_method = go(code_challenge_method=None)
    assert query_of(no_method.headers["location"])["error"] == "invalid_request"
    # a scope the client may not have
    assert query_of(go(scope="openid vault").headers["location"])["error"] == "invalid_scope"
    assert query_of(go(request="e30.e30.").headers["location"])["error"] == "request_not_supported"
    assert query_of(go(response_type="token").headers["location"])["error"] == (
        "unsupported_response_type"
    )


def test_control_characters_are_a_clear_error(http, rt):
    client_id, _ = make_client(rt)
    r = http.get("/oauth2/authorize", params={"response_type": "co\x00de", "client_id": client_id})
    assert r.status_code == 400 and "text/html" in r.headers["content-type"]


def test_token_errors(http, rt):
    client_id, secret = make_client(rt)
    callback, verifier, _ = code_flow(http, client_id)
    wrong = exchange(http, client_id, "not-the-secret", callback["code"], verifier)
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    bad_verifier = exchange(http, client_id, secret, callback["code"], "x" * 50)
    assert bad_verifier.json()["error"] == "invalid_grant"
    # the code was consumed by the failed attempt
    ok = exchange(http, client_id, secret, callback["code"], verifier)
    assert ok.json()["error"] == "invalid_grant"

    callback, verifier, _ = code_flow(http, client_id)
    no_verifier = exchange(http, client_id, secret, callback["code"], None)
    assert no_verifier.json()["error"] == "invalid_request"
    callback, verifier, _ = code_flow(http, client_id)
    other_uri = exchange(
        http, client_id, secret, callback["code"], verifier, redirect_uri=REDIRECT + "x"
    )
    assert other_uri.json()["error"] == "invalid_grant"

    for body, content_type in (
        ("grant_type=authorization_code&code=a&code=b", "application/x-www-form-urlencoded"),
        ('{"grant_type": "client_credentials"}', "application/json"),
        ("grant_type=%FF%FE", "application/x-www-form-urlencoded"),
        ("grant_type=password&username=a&password=b", "application/x-www-form-urlencoded"),
    ):
        r = http.post(
            "/oauth2/token",
            content=body,
            headers={"Content-Type": content_type},
            auth=(client_id, secret),
        )
        assert r.status_code in (400, 401), (body, r.text)
        assert r.json()["error"] in ("invalid_request", "unsupported_grant_type"), r.text


NUL = "\x00"
CTRL = "a\x00b\x01\x1b[31m\u202etxt\u200b\ufeff"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _oauth_error(r, statuses: tuple[int, ...] = (400,)) -> str:
    assert r.status_code in statuses, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json"), r.text
    body = r.json()
    assert set(body) <= {"error", "error_description", "error_uri"} and body["error"], body
    return body["error"]


def test_hostile_basic_credentials_are_invalid_client_on_every_endpoint(http, rt):
    """Authlib decodes Basic credentials as base64 and UTF-8 and raises on anything else: that
    one parsing step is answered with invalid_client (401, RFC 6749 5.2), the rest of the
    token path runs without a catch-all that would turn our own bugs into invalid_request."""
    client_id, secret = make_client(rt)
    callback, verifier, _ = code_flow(http, client_id)
    hostile = [
        b"Basic " + base64.b64encode(b"\xff\xfe:secret"),  # not UTF-8
        b"Basic " + base64.b64encode(client_id.encode() + b":\xc3\x28"),
        b"Basic \xe9\xff==",  # not ASCII: base64 refuses it
    ]
    grants = [
        {"grant_type": "authorization_code", "code": callback["code"], "code_verifier": verifier},
        {"grant_type": "refresh_token", "refresh_token": "x"},
        {"grant_type": "client_credentials", "client_assertion_type": "x"},
    ]
    for header in hostile:
        for endpoint, data in [
            *[("/oauth2/token", g) for g in grants],
            ("/oauth2/introspect", {"token": "x"}),
            ("/oauth2/revoke", {"token": "x"}),
        ]:
            r = http.post(endpoint, data=data, headers={"Authorization": header})
            assert _oauth_error(r, (401,)) == "invalid_client", (endpoint, header)
            assert r.headers["www-authenticate"].startswith("Basic")
    # the code was never looked at: it still works
    assert exchange(http, client_id, secret, callback["code"], verifier).status_code == 200


def test_hostile_token_requests_get_oauth_errors_never_500(http, rt):
    """NUL and control characters, non-UTF-8 bodies and huge values on the Authlib (slow)
    path: an OAuth error body with a 4xx; a 500 would raise here (TestClient)."""
    client_id, secret = make_client(rt)
    huge = "x" * 200_000
    bodies = [
        {"grant_type": "authorization_code", "code": NUL, "redirect_uri": CTRL},
        {"grant_type": "authorization_code", "code": huge, "code_verifier": CTRL},
        {"grant_type": "authorization_code", "code": "c", "redirect_uri": huge},
        {"grant_type": "refresh_token", "refresh_token": CTRL, "scope": NUL},
        {"grant_type": "refresh_token", "refresh_token": huge, "scope": huge},
        {"grant_type": CTRL, "scope": NUL},
        {"grant_type": huge},
    ]
    for data in bodies:
        for auth in ((client_id, secret), None):
            extra = {} if auth else {"client_id": client_id}
            r = http.post("/oauth2/token", data={**data, **extra}, auth=auth)
            _oauth_error(r, (400, 401))
    for raw in (b"grant_type=\xff\xfe", b"grant_type=%00%ff%c3%28", b"a=" + b"x" * 200_000):
        r = http.post("/oauth2/token", content=raw, headers=FORM, auth=(client_id, secret))
        _oauth_error(r, (400, 401))
    for endpoint in ("/oauth2/introspect", "/oauth2/revoke"):
        for data in ({"token": NUL}, {"token": CTRL, "token_type_hint": NUL}, {"token": huge}):
            r = http.post(endpoint, data=data, auth=(client_id, secret))
            # an unknown token_type_hint is Authlib's unsupported_token_type (a ForbiddenError)
            assert r.status_code == 200 or _oauth_error(r, (400, 401)), (endpoint, r.text)


def test_expired_code(http, rt):
    client_id, secret = make_client(rt)
    callback, verifier, _ = code_flow(http, client_id)
    with session_scope(rt.sessionmaker) as s:  # age the code past its 60 s lifetime
        s.execute(
            update(AuthorizationCode)
            .where(AuthorizationCode.code_hash == token_hash(callback["code"]))
            .values(expires_at=utcnow())
        )
    time.sleep(0.01)
    r = exchange(http, client_id, secret, callback["code"], verifier)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_logout_requires_registered_redirect(http, rt):
    client_id, secret = make_client(rt)
    callback, verifier, _ = code_flow(http, client_id)
    tokens = exchange(http, client_id, secret, callback["code"], verifier).json()
    bad = http.get(
        "/oauth2/logout",
        params={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": LOGOUT_TO + "/x"},
        follow_redirects=False,
    )
    assert bad.status_code == 400 and "не зарегистрирован" in bad.text
    ok = http.get(
        "/oauth2/logout",
        params={
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": LOGOUT_TO,
            "state": "z",
        },
        follow_redirects=False,
    )
    assert ok.status_code == 302 and ok.headers["location"] == LOGOUT_TO + "?state=z"
    # the session is over: a new authorization asks for login again
    _, c = pkce()
    page = http.get(
        "/oauth2/authorize?" + urlencode(authorize_params(client_id, c)), follow_redirects=False
    )
    assert page.status_code == 200 and 'name="txn"' in page.text


def test_upstream_refusal_goes_back_to_the_rp(http, rt):
    client_id, _ = make_client(rt)
    _, challenge = pkce()
    params = authorize_params(client_id, challenge, state="deny-me")
    page = http.get("/oauth2/authorize?" + urlencode(params), follow_redirects=False)
    txn = re.search(r'name="txn" value="([^"]+)"', page.text).group(1)
    r = http.post("/login/dev/callback", data={"txn": txn, "deny": "1"}, follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"].startswith(REDIRECT + "?")
    q = query_of(r.headers["location"])
    assert (q["error"], q["state"], q["iss"]) == ("access_denied", "deny-me", "http://testserver")
    # the transaction is single-use; an incomplete form is an HTML error
    again = http.post("/login/dev/callback", data={"txn": txn, "deny": "1"})
    assert again.status_code == 400 and "text/html" in again.headers["content-type"]
    broken = http.post("/login/dev/callback", data={"txn": txn})
    assert broken.status_code == 400 and "DEV-001" in broken.text


def test_first_party_login_for_the_web_ui(http):
    page = http.get("/login", params={"next": "/cabinet?tab=1"}, follow_redirects=False)
    assert page.status_code == 200
    txn = re.search(r'name="txn" value="([^"]+)"', page.text).group(1)
    r = http.post(
        "/login/dev/callback",
        follow_redirects=False,
        data={
            "txn": txn,
            "oid": "fp" + str(time.time_ns())[-10:],
            "last_name": "Орлова",
            "first_name": "Вера",
        },
    )
    assert r.status_code == 302 and r.headers["location"] == "/cabinet?tab=1"
    assert "propusk_session" in r.cookies or "propusk_session" in http.cookies
    # logged in: no upstream, and never an open redirect
    r = http.get("/login", params={"next": "//evil.example/x"}, follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/"


def test_rs256_id_tokens_for_clients_that_ask(http, rt):
    client_id, secret = make_client(rt, id_token_alg="RS256")
    callback, verifier, _ = code_flow(http, client_id)
    tokens = exchange(http, client_id, secret, callback["code"], verifier).json()
    assert jose_jwt.get_unverified_header(tokens["id_token"])["alg"] == "RS256"
    claims = _verify(
        http, tokens["id_token"], audience=client_id, access_token=tokens["access_token"]
    )
    assert claims["aud"] == client_id
    doc = http.get("/.well-known/openid-configuration").json()
    assert doc["id_token_signing_alg_values_supported"] == ["ES256", "RS256"]


def test_refresh_token_of_another_client_neither_works_nor_burns(http, rt):
    client_id, secret = make_client(rt)
    other_id, other_secret = make_client(rt)
    callback, verifier, _ = code_flow(http, client_id, scope=OFFLINE)
    tokens = exchange(http, client_id, secret, callback["code"], verifier).json()
    stolen = http.post(
        "/oauth2/token",
        auth=(other_id, other_secret),
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    bad_scope = http.post(
        "/oauth2/token",
        auth=(client_id, secret),
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "scope": "admin",
        },
    )
    assert bad_scope.json()["error"] == "invalid_scope"
    ok = http.post(
        "/oauth2/token",
        auth=(client_id, secret),
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert ok.status_code == 200, ok.text
