"""``/openapi.json`` documents every operation of idp.oidc: an English description and the shape
of every 2xx body (a pydantic model for JSON, ``text/html`` for pages), and the documented
protocol models match what the endpoints really send."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel

from idp.oidc import admin_routes, authorize, login_routes, routes, session_routes
from idp.oidc.schemas import (
    DiscoveryDocument,
    IntrospectionResponse,
    JsonWebKeySet,
    RevocationResponse,
    TokenResponse,
    UserInfo,
)
from propusk.app import create_app
from propusk.runtime import build_runtime
from tests.idp.oidc.helpers import code_flow, exchange, make_client
from tests.support.settings import make_settings

ROUTERS = (routes, authorize, login_routes, admin_routes, session_routes)
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


@pytest.fixture(scope="module")
def rt(sqlite_database) -> Iterator:
    runtime = build_runtime(make_settings(sqlite_database, upstream="dev"))
    yield runtime
    runtime.dispose()


@pytest.fixture(scope="module")
def http(rt) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=rt), base_url="http://testserver") as c:
        yield c


def _operations() -> list[tuple[str, str]]:
    return [
        (route.path, method.lower())
        for module in ROUTERS
        for route in module.router.routes
        if isinstance(route, APIRoute) and route.include_in_schema
        for method in sorted(route.methods)
    ]


def test_every_operation_has_an_english_description_and_typed_2xx(http):
    spec = http.get("/openapi.json").json()
    components = spec["components"]["schemas"]
    operations = _operations()
    assert len(operations) >= 25  # the routers above, every method
    for path, method in operations:
        op = spec["paths"][path][method]
        where = f"{method.upper()} {path}"
        description = op.get("description", "")
        assert description.strip(), f"{where} has no description"
        assert not CYRILLIC.search(description), f"{where}: the description is not English"
        ok = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        assert ok, f"{where} documents no 2xx answer"
        for code, answer in ok.items():
            content = answer.get("content", {})
            if code == "204":
                assert not content, f"{where} 204 has a body"
            elif "text/html" not in content:  # a page, or JSON with its model
                schema = content["application/json"]["schema"]
                ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
                assert ref, f"{where} {code} has no typed body: {schema}"
                assert ref.rsplit("/", 1)[-1] in components, where


def _fields_cover(model: type[BaseModel], body: dict) -> None:
    """``body`` validates as ``model`` and has no key the model does not name (unless the
    model allows extra keys, as the discovery document and userinfo do)."""
    model.model_validate(body)
    if model.model_config.get("extra") != "allow":
        assert set(body) <= set(model.model_fields), set(body) - set(model.model_fields)


def test_documented_models_match_the_protocol_bodies(http, rt):
    _fields_cover(DiscoveryDocument, http.get("/.well-known/openid-configuration").json())
    _fields_cover(JsonWebKeySet, http.get("/jwks.json").json())

    client_id, secret = make_client(
        rt, grant_types=["client_credentials"], redirect_uris=[], scopes=["consent.read"]
    )
    lane = http.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    assert lane.status_code == 200, lane.text
    _fields_cover(TokenResponse, lane.json())
    seen = http.post(
        "/oauth2/introspect", data={"token": lane.json()["access_token"]}, auth=(client_id, secret)
    )
    assert seen.json()["active"] is True
    _fields_cover(IntrospectionResponse, seen.json())
    gone = http.post(
        "/oauth2/revoke", data={"token": lane.json()["access_token"]}, auth=(client_id, secret)
    )
    assert gone.status_code == 200
    _fields_cover(RevocationResponse, gone.json())

    rp_id, rp_secret = make_client(rt, scopes=["openid", "profile", "email", "offline_access"])
    query, verifier, _ = code_flow(http, rp_id, scope="openid profile email offline_access")
    tokens = exchange(http, rp_id, rp_secret, query["code"], verifier)
    assert tokens.status_code == 200, tokens.text
    _fields_cover(TokenResponse, tokens.json())
    assert {"id_token", "refresh_token"} <= set(tokens.json())
    bearer = {"Authorization": "Bearer " + tokens.json()["access_token"]}
    _fields_cover(UserInfo, http.get("/oauth2/userinfo", headers=bearer).json())
