"""client_credentials (fast path and private_key_jwt), introspection, revocation, principal."""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid

from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from audit.service import events_for_subject
from idp.oidc.clients import bind_client
from propusk.app import create_app
from propusk.db import session_scope
from propusk.deps import PrincipalDep
from tests.idp.oidc.helpers import assertion_client, code_flow, make_client

TOKEN_URL = "http://testserver/oauth2/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(client_id: str, **over) -> dict:
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": TOKEN_URL,
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(12),
    }
    claims.update(over)
    return claims


def _cc(http, client_id, assertion, **extra):
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        "client_id": client_id,
    }
    data.update(extra)
    return http.post("/oauth2/token", data=data)


def test_secret_clients_fast_path(http, rt):
    basic_id, basic_secret = make_client(
        rt, grant_types=["client_credentials"], redirect_uris=[], scopes=["vault.write", "x"]
    )
    r = http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "scope": "x"},
        auth=(basic_id, basic_secret),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "x"
    assert r.headers["cache-control"] == "no-store"
    header = json.loads(base64.urlsafe_b64decode(body["access_token"].split(".")[0] + "=="))
    assert header["typ"] == "at+jwt" and header["alg"] == "ES256" and header["kid"]

    # the same client with client_secret_post is refused: the method is part of registration
    post = http.post(
        "/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": basic_id,
            "client_secret": basic_secret,
        },
    )
    assert post.json()["error"] == "invalid_client"
    wrong = http.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(basic_id, "wrong")
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert "Basic" in wrong.headers["www-authenticate"]
    bad_scope = http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "scope": "admin"},
        auth=(basic_id, basic_secret),
    )
    assert bad_scope.json()["error"] == "invalid_scope"
    garbage = http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic !!!notbase64"},
    )
    assert garbage.status_code == 401 and garbage.json()["error"] == "invalid_client"

    code_client, code_secret = make_client(rt)
    r = http.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(code_client, code_secret)
    )
    assert r.json()["error"] == "unauthorized_client"

    post_id, post_secret = make_client(
        rt, grant_types=["client_credentials"], redirect_uris=[], auth_method="client_secret_post"
    )
    r = http.post(
        "/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": post_id,
            "client_secret": post_secret,
        },
    )
    assert r.status_code == 200, r.text
    assert "scope" not in r.json()


def test_private_key_jwt(http, rt):
    client_id, key = assertion_client(rt)
    assertion = jwt.encode({"alg": "ES256", "kid": "k1"}, _claims(client_id), key)
    r = _cc(http, client_id, assertion)
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]

    # replayed jti
    replay = _cc(http, client_id, assertion)
    assert replay.status_code in (400, 401) and replay.json()["error"] == "invalid_client"
    # wrong audience
    other = jwt.encode({"alg": "ES256"}, _claims(client_id, aud="https://other.example"), key)
    assert _cc(http, client_id, other).json()["error"] == "invalid_client"
    # alg=none
    unsigned = _b64({"alg": "none"}) + "." + _b64(_claims(client_id)) + "."
    assert _cc(http, client_id, unsigned).json()["error"] == "invalid_client"
    # HMAC with a key derived from public material
    hmac_key = OctKey.import_key(key.as_dict(private=False)["x"].encode())
    hs = jwt.encode({"alg": "HS256"}, _claims(client_id), hmac_key)
    assert _cc(http, client_id, hs).json()["error"] == "invalid_client"
    # signed by another key
    stranger = ECKey.generate_key("P-256", private=True)
    forged = jwt.encode({"alg": "ES256"}, _claims(client_id), stranger)
    assert _cc(http, client_id, forged).json()["error"] == "invalid_client"
    # expired
    old = jwt.encode({"alg": "ES256"}, _claims(client_id, exp=int(time.time()) - 600), key)
    assert _cc(http, client_id, old).json()["error"] == "invalid_client"
    # garbage
    assert _cc(http, client_id, "a.b.c").json()["error"] == "invalid_client"

    # the token works as a client principal
    intro = http.post(
        "/oauth2/introspect",
        data={
            "token": token,
            "client_id": client_id,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": jwt.encode({"alg": "ES256"}, _claims(client_id), key),
        },
    )
    assert intro.status_code == 200, intro.text
    assert intro.json()["active"] is True and intro.json()["client_id"] == client_id


def test_introspection_and_revocation(http, rt):
    client_id, secret = make_client(
        rt, grant_types=["client_credentials"], redirect_uris=[], scopes=["a"]
    )
    token = http.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    ).json()["access_token"]
    intro = http.post("/oauth2/introspect", data={"token": token}, auth=(client_id, secret))
    assert intro.json()["active"] is True and intro.json()["scope"] == "a"
    other_id, other_secret = make_client(rt, grant_types=["client_credentials"], redirect_uris=[])
    foreign = http.post("/oauth2/introspect", data={"token": token}, auth=(other_id, other_secret))
    assert foreign.json() == {"active": False}
    # revocation by another client is ignored (RFC 7009: still 200)
    assert (
        http.post(
            "/oauth2/revoke", data={"token": token}, auth=(other_id, other_secret)
        ).status_code
        == 200
    )
    assert (
        http.post("/oauth2/introspect", data={"token": token}, auth=(client_id, secret)).json()[
            "active"
        ]
        is True
    )
    assert (
        http.post("/oauth2/revoke", data={"token": token}, auth=(client_id, secret)).status_code
        == 200
    )
    assert http.post(
        "/oauth2/introspect", data={"token": token}, auth=(client_id, secret)
    ).json() == {"active": False}
    assert http.post(
        "/oauth2/introspect", data={"token": "nonsense"}, auth=(client_id, secret)
    ).json() == {"active": False}
    assert http.post("/oauth2/introspect", data={}, auth=(client_id, secret)).json()["error"] == (
        "invalid_request"
    )
    assert (
        http.post("/oauth2/introspect", data={"token": token}, auth=(client_id, "bad")).json()[
            "error"
        ]
        == "invalid_client"
    )


def whoami(p: PrincipalDep) -> dict:
    return {"kind": p.kind, "subject": p.subject, "roles": [[g.role, g.domain] for g in p.roles]}


def test_principal_from_bearer(http, rt):
    http.app.add_api_route("/_test/whoami", whoami, openapi_extra={"x-public": True})
    org = uuid.uuid4()
    client_id, secret = make_client(
        rt,
        grant_types=["client_credentials"],
        redirect_uris=[],
        role="supplier",
        organization_id=org,
    )
    token = http.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    ).json()["access_token"]
    me = http.get("/_test/whoami", headers={"Authorization": f"Bearer {token}"}).json()
    assert me == {
        "kind": "client",
        "subject": f"client:{client_id}",
        "roles": [["supplier", f"org:{org}"]],
    }
    # bind_client (the consent engineer's entry point) takes effect at once in this process

    other_org = uuid.uuid4()
    with session_scope(rt.sessionmaker) as s:
        bind_client(s, client_id, other_org, "operator")
    me = http.get("/_test/whoami", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["roles"] == [["operator", f"org:{other_org}"]]
    bad = http.get("/_test/whoami", headers={"Authorization": f"Bearer {token[:-4]}AAAA"})
    assert bad.status_code == 401 and "invalid_token" in bad.headers["www-authenticate"]
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert http.get("/_test/whoami").json()["kind"] == "anonymous"


def test_fast_path_audit_is_buffered_then_flushed(rt):
    client_id, secret = make_client(rt, grant_types=["client_credentials"], redirect_uris=[])
    with TestClient(create_app(runtime=rt)) as c:
        for _ in range(3):
            r = c.post(
                "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
            )
            assert r.status_code == 200
    # leaving the client ran the lifespan shutdown, which flushes the buffer
    with session_scope(rt.sessionmaker) as s:
        events = events_for_subject(s, f"client:{client_id}", ["token.issued"])
    assert sum(e.body["count"] for e in events) == 3
    assert all(e.actor == f"client:{client_id}" for e in events)


def test_login_cookie_principal(http, rt):
    http.app.add_api_route("/_test/whoami", whoami, openapi_extra={"x-public": True})
    client_id, _ = make_client(rt, auth_method="none")
    code_flow(http, client_id)
    me = http.get("/_test/whoami").json()
    assert me["kind"] == "person" and me["subject"].startswith("person:")
    http.cookies.clear()
    assert http.get("/_test/whoami").json()["kind"] == "anonymous"


def test_nul_characters_are_clear_errors(http):
    """PostgreSQL refuses NUL in text: such lookups must be misses, not 500s."""
    r = http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": "a\x00b", "client_secret": "s"},
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_client"
    r = http.post(
        "/oauth2/token",
        data={"grant_type": "authorization_code", "code": "x", "client_id": "a\x00b"},
    )
    assert r.status_code in (400, 401) and r.json()["error"] == "invalid_client"
    r = http.get("/oauth2/authorize", params={"response_type": "code", "client_id": "a\x00b"})
    assert r.status_code == 400
    header = base64.urlsafe_b64encode(b'{"alg":"ES256","kid":"a\\u0000b","typ":"at+jwt"}')
    forged = header.rstrip(b"=").decode() + ".e30.AAAA"
    r = http.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    r = http.get("/oauth2/logout", params={"client_id": "a\x00b"})
    assert r.status_code == 200
