"""``propusk clients`` and ``propusk keys`` against the configured database; dev upstream guard."""

from __future__ import annotations

import json

import pytest
from jose import jws
from jose import jwt as jose_jwt
from sqlalchemy import update
from typer.testing import CliRunner

from idp.dev_upstream import DevUpstream
from idp.oidc import keys
from idp.oidc.models import LoginTransaction
from propusk.cli import app
from propusk.db import session_scope, utcnow
from propusk.settings import get_settings
from tests.idp.oidc.helpers import make_client
from tests.support.settings import make_settings


@pytest.fixture
def cli(db_url, monkeypatch):
    monkeypatch.setenv("PROPUSK_DATABASE_URL", db_url)
    monkeypatch.setenv("PROPUSK_ENV", "test")
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    get_settings.cache_clear()


def test_clients_create_list_delete_and_use(cli, http):
    r = cli(
        "clients",
        "create",
        "--name",
        "Оператор",
        "--grant",
        "client_credentials",
        "--auth-method",
        "client_secret_post",
        "--scope",
        "consent.read vault.read",
        "--role",
        "operator",
    )
    assert r.exit_code == 0, r.output
    created = json.loads(r.output)
    assert created["client_secret"] and created["role"] == "operator"
    token = http.post(
        "/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": created["client_id"],
            "client_secret": created["client_secret"],
            "scope": "vault.read",
        },
    )
    assert token.status_code == 200, token.text
    out = cli("clients", "list").output
    assert created["client_secret"] not in out
    listed = json.loads(out)
    assert any(c["client_id"] == created["client_id"] for c in listed)
    assert all("client_secret" not in c and "secret_hash" not in c for c in listed)

    rp = json.loads(
        cli(
            "clients",
            "create",
            "--name",
            "RP",
            "--grant",
            "authorization_code",
            "--grant",
            "refresh_token",
            "--redirect-uri",
            "https://rp.example/cb",
            "--post-logout-redirect-uri",
            "https://rp.example/",
            "--auth-method",
            "none",
        ).output
    )
    assert "client_secret" not in rp and rp["redirect_uris"] == ["https://rp.example/cb"]

    bad = cli("clients", "create", "--name", "x", "--grant", "implicit")
    assert bad.exit_code == 2 and "unsupported grant" in bad.output
    bad = cli(
        "clients",
        "create",
        "--name",
        "x",
        "--grant",
        "client_credentials",
        "--auth-method",
        "private_key_jwt",
    )
    assert bad.exit_code == 2 and "jwks" in bad.output

    assert cli("clients", "delete", created["client_id"]).exit_code == 0
    assert cli("clients", "delete", created["client_id"]).exit_code == 2
    # deleting through the service invalidates this process's cache at once
    token = http.post(
        "/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": created["client_id"],
            "client_secret": created["client_secret"],
        },
    )
    assert token.json()["error"] == "invalid_client"


def test_keys_rotate_keep_old_kid_until_retired(cli, http):
    rt = http.app.state.runtime
    client_id, secret = make_client(rt, grant_types=["client_credentials"], redirect_uris=[])
    http.app.state.oidc.fast.keys.invalidate()
    old = http.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    ).json()["access_token"]
    old_kid = jose_jwt.get_unverified_header(old)["kid"]

    r = cli("keys", "rotate")
    assert r.exit_code == 0, r.output
    new_kids = json.loads(r.output)["current"]
    http.app.state.oidc.fast.keys.invalidate()  # a server notices within KEY_TTL; we force it
    new = http.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    ).json()["access_token"]
    assert jose_jwt.get_unverified_header(new)["kid"] in new_kids
    published = {k["kid"] for k in http.get("/jwks.json").json()["keys"]}
    assert old_kid in published and set(new_kids) <= published
    intro = http.post("/oauth2/introspect", data={"token": old}, auth=(client_id, secret))
    assert intro.json()["active"] is True

    assert cli("keys", "retire", old_kid).exit_code == 0
    assert old_kid not in {k["kid"] for k in http.get("/jwks.json").json()["keys"]}
    listed = json.loads(cli("keys", "list").output)
    assert any(k["kid"] == old_kid and k["retired_at"] for k in listed)


def test_sign_jws_verifies_with_published_jwks(http):
    rt = http.app.state.runtime
    with session_scope(rt.sessionmaker) as s:
        token = keys.sign_jws(s, rt.settings, {"receipt": "r1"}, "receipt+jwt")
    header = jws.get_unverified_header(token)
    key = next(k for k in http.get("/jwks.json").json()["keys"] if k["kid"] == header["kid"])
    assert json.loads(jws.verify(token, key, algorithms=["ES256"])) == {"receipt": "r1"}
    assert header["typ"] == "receipt+jwt"


def test_dev_upstream_refused_in_production(db_url):
    with pytest.raises(RuntimeError, match="refused in production"):
        DevUpstream(make_settings(db_url, env="production", upstream="dev"))


def test_purge_expired(cli, http):
    page = http.get("/login", follow_redirects=False)
    assert page.status_code == 200
    rt = http.app.state.runtime
    with session_scope(rt.sessionmaker) as s:
        s.execute(update(LoginTransaction).values(expires_at=utcnow()))
    r = cli("clients", "purge-expired")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["login_txn"] >= 1
