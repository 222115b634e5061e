"""Service signing keys are provisioned when the app starts (idempotent, one key per algorithm
even when several processes start at once); no request creates one."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from jose import jwt as jose_jwt

from idp.oidc import keys, repository
from propusk.app import create_app
from propusk.db import session_scope
from propusk.errors import Problem
from propusk.runtime import build_runtime
from tests.idp.oidc.helpers import make_client
from tests.support.settings import make_settings

FRESH = pytest.mark.parametrize("fresh_db_url", ["sqlite", "postgres"], indirect=True)


def _stored(rt) -> list[tuple[str, str]]:
    with session_scope(rt.sessionmaker) as s:
        return sorted((k.kid, k.alg) for k in repository.all_keys(s))


def _token(client, client_id: str, secret: str):
    data = {"grant_type": "client_credentials"}
    return client.post("/oauth2/token", data=data, auth=(client_id, secret))


@FRESH
def test_start_up_provisions_the_keys_and_requests_only_read_them(fresh_db_url):
    rt = build_runtime(make_settings(fresh_db_url, upstream="dev"))
    client_id, secret = make_client(rt, grant_types=["client_credentials"], redirect_uris=[])
    app = create_app(runtime=rt)
    try:
        idle = TestClient(app, base_url="http://testserver")  # not entered: no start-up
        assert idle.get("/jwks.json").json() == {"keys": []}
        refused = _token(idle, client_id, secret)  # the fast lane
        assert refused.status_code == 503 and refused.json()["error"] == "temporarily_unavailable"
        assert _stored(rt) == []  # neither the JWKS nor the token lane made a key

        with TestClient(app, base_url="http://testserver") as c:
            provisioned = _stored(rt)  # before any request
            assert sorted(alg for _, alg in provisioned) == ["ES256", "RS256"]
            published = {k["kid"] for k in c.get("/jwks.json").json()["keys"]}
            assert published == {kid for kid, _ in provisioned}
            ok = _token(c, client_id, secret)
            assert ok.status_code == 200, ok.text
            assert jose_jwt.get_unverified_header(ok.json()["access_token"])["kid"] in published
        with TestClient(create_app(runtime=rt), base_url="http://testserver"):
            pass  # a second start-up (another process, a restart) adds nothing
        assert _stored(rt) == provisioned
    finally:
        rt.dispose()


@FRESH
def test_concurrent_start_ups_create_one_key_per_algorithm(fresh_db_url):
    """Processes starting at once: the provisioning check runs under a lock (PostgreSQL
    advisory lock, SQLite write lock), so the later ones find the first one's keys."""
    starters = 4
    runtimes = [build_runtime(make_settings(fresh_db_url)) for _ in range(starters)]
    barrier = threading.Barrier(starters)
    results: list[bool] = []
    errors: list[BaseException] = []

    def start(rt) -> None:
        try:
            barrier.wait()
            results.append(keys.provision(rt.sessionmaker, rt.settings))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(rt,)) for rt in runtimes]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        assert results == [True] * starters
        assert sorted(alg for _, alg in _stored(runtimes[0])) == ["ES256", "RS256"]
    finally:
        for rt in runtimes:
            rt.dispose()


def test_signing_without_provisioned_keys_is_a_clear_503(fresh_db_url):
    rt = build_runtime(make_settings(fresh_db_url))
    try:
        with pytest.raises(keys.NoSigningKey) as caught, session_scope(rt.sessionmaker) as s:
            keys.sign_jws(s, rt.settings, {"receipt": "r"}, "receipt+jwt")
        assert isinstance(caught.value, Problem) and caught.value.status == 503
        assert _stored(rt) == []
    finally:
        rt.dispose()
