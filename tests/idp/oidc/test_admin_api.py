"""Client and key administration over HTTP: platform_admin only, problem+json on bad input."""

from __future__ import annotations

import re

from idp.statuses import grant_platform_admin
from propusk.db import session_scope
from tests.idp.oidc.helpers import first_party, new_oid


def _login(http, oid: str) -> None:
    page = http.get("/login", params={"next": "/"}, follow_redirects=False)
    txn = re.search(r'name="txn" value="([^"]+)"', page.text).group(1)
    r = http.post(
        "/login/dev/callback",
        follow_redirects=False,
        data={"txn": txn, "oid": oid, "last_name": "Админова", "first_name": "Нина"},
    )
    assert r.status_code == 302
    first_party(http)  # the cabinet's headers: same origin, the session's CSRF token


def test_admin_manages_clients_and_keys(http, rt):
    assert http.get("/api/v1/clients").status_code == 401
    oid = new_oid()
    _login(http, oid)
    assert http.get("/api/v1/clients").status_code == 403  # a plain person
    with session_scope(rt.sessionmaker) as s:
        grant_platform_admin(s, oid, actor="test")

    r = http.post(
        "/api/v1/clients",
        json={
            "name": "Поставщик",
            "grant_types": ["client_credentials"],
            "role": "supplier",
            "scopes": ["vault.write"],
        },
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["client_secret"] and created["role"] == "supplier"
    token = http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(created["client_id"], created["client_secret"]),
    )
    assert token.status_code == 200

    listed = http.get("/api/v1/clients").json()
    assert any(c["client_id"] == created["client_id"] for c in listed)
    assert all("client_secret" not in c for c in listed)
    one = http.get(f"/api/v1/clients/{created['client_id']}").json()
    assert one["scopes"] == ["vault.write"]
    bound = http.put(
        f"/api/v1/clients/{created['client_id']}/binding",
        json={"organization_id": None, "role": "operator"},
    )
    assert bound.status_code == 200 and bound.json()["role"] == "operator"

    bad = http.post("/api/v1/clients", json={"name": "x", "grant_types": ["authorization_code"]})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    bad = http.post("/api/v1/clients", json={"name": "x", "grant_types": ["implicit"]})
    assert bad.status_code == 422

    rotated = http.post("/api/v1/keys/rotate")
    assert rotated.status_code == 200
    published = {k["kid"] for k in http.get("/jwks.json").json()["keys"]}
    assert set(rotated.json()["current"]) <= published

    assert http.delete(f"/api/v1/clients/{created['client_id']}").status_code == 204
    assert http.get(f"/api/v1/clients/{created['client_id']}").status_code == 404
    assert http.delete(f"/api/v1/clients/{created['client_id']}").status_code == 404
