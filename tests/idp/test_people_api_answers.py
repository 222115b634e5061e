"""Typed answers of the people/schools API: every operation of ``idp.routes`` documents its
2xx JSON body (a named schema) and has an English description in ``/openapi.json``; the typed
models keep the answers' historical keys and formats."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from idp.routes import router
from tests.idp import factories as f
from tests.idp.helpers import (
    HEAD,
    as_person,
    new_school,
    principal_from_headers,
    school_admin,
)

OPERATIONS = [
    (route.path, method.lower())
    for route in router.routes
    if isinstance(route, APIRoute)
    for method in sorted(route.methods)
]


def _schema_name(schema: dict) -> str | None:
    """The component a response schema names (itself or as the items of a list)."""
    if schema.get("type") == "array":
        schema = schema.get("items", {})
    ref = schema.get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref.startswith("#/components/schemas/") else None


def _named_components(schema, components: dict, seen: set[str]) -> set[str]:
    """Every component a schema refers to, directly or through other components."""
    if isinstance(schema, dict):
        ref = schema.get("$ref", "")
        if ref.startswith("#/components/schemas/") and ref not in seen:
            seen.add(ref)
            _named_components(components[ref.rsplit("/", 1)[-1]], components, seen)
        for value in schema.values():
            _named_components(value, components, seen)
    elif isinstance(schema, list):
        for value in schema:
            _named_components(value, components, seen)
    return {ref.rsplit("/", 1)[-1] for ref in seen}


def test_every_operation_documents_a_typed_2xx_body_and_a_description(app):
    spec = app.openapi()
    components = spec["components"]["schemas"]
    assert len(OPERATIONS) >= 10
    for path, method in OPERATIONS:
        op = spec["paths"][path][method]
        assert op.get("description", "").strip(), (method, path, "no description")
        ok = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        assert ok, (method, path, "no 2xx response")
        for code, response in ok.items():
            if "application/json" not in response["content"]:  # a file: the people's export
                assert list(response["content"]) == ["text/csv"], (method, path, code)
                continue
            schema = response["content"]["application/json"]["schema"]
            assert _schema_name(schema), (method, path, code, schema)
            for name in _named_components(schema, components, set()):
                assert components[name].get("properties"), (method, path, name)


@pytest.fixture
def api(app):
    app.state.principal_resolver = principal_from_headers
    with TestClient(app, base_url="http://testserver") as c:
        yield c


def test_answers_keep_their_historical_keys(api, runtime):
    """``class`` is left out of a school status without a class (as in the OIDC claim), a
    status row always has it; an ended status keeps ``revoked_at`` with a ``+00:00`` offset."""
    school = new_school(api)
    sid = school["id"]
    admin = school_admin(runtime, school)
    csv_text = HEAD + f"teacher,{f.name()},Анна,,1980-01-01,,\n"
    headers = {**as_person(admin), "content-type": "text/csv"}
    r = api.post(f"/api/v1/schools/{sid}/roster", content=csv_text.encode(), headers=headers)
    assert list(r.json()) == [
        "school_id",
        "rows",
        "added",
        "updated",
        "unchanged",
        "ended",
        "matched",
        "confirmed_by",
        "review",
    ]
    me = api.get("/api/v1/me", headers=as_person(admin)).json()
    mine = {"school_id": sid, "school_name": school["name"], "ogrn": school["ogrn"]}
    assert me["statuses"] == [{**mine, "role": "school_admin"}]
    listed = api.get(f"/api/v1/schools/{sid}/statuses", headers=as_person(admin)).json()
    assert all("class" in s and "person_name" in s for s in listed)
    staff = next(s for s in listed if s["role"] == "school_admin")
    body = {"person_id": staff["person_id"]}
    r = api.post(f"/api/v1/schools/{sid}/proctors", json=body, headers=as_person(admin))
    assert r.status_code == 201, r.text
    assert r.json()["class"] is None and r.json()["valid_from"].endswith("Z")
    ended = api.delete(f"/api/v1/schools/{sid}/statuses/{r.json()['id']}", headers=as_person(admin))
    assert ended.status_code == 200, ended.text
    assert ended.json()["revoked_at"].endswith("+00:00")
    assert list(ended.json())[-1] == "revoked_at"
