"""``/docs`` is served entirely by this server: no CDN, the bundled Swagger UI 5 (OpenAPI 3.1)."""

from __future__ import annotations

import re
import warnings

from propusk.errors import PROBLEM_JSON


def test_docs_page_loads_only_local_assets(client):
    r = client.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    sources = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert "/docs/assets/swagger-ui-bundle.js" in sources
    assert "/docs/assets/swagger-ui.css" in sources
    assert all(s.startswith("/") for s in sources), sources  # nothing from another origin
    assert "cdn" not in r.text.lower()
    assert 'data-openapi-url="/openapi.json"' in r.text
    assert "<script>" not in r.text  # the initializer is a file too (no inline script)
    assert "/docs/assets/propusk-docs.js" in sources


def test_bundled_assets_are_served(client):
    js = client.get("/docs/assets/swagger-ui-bundle.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert len(js.content) > 500_000
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200
    init = client.get("/docs/assets/propusk-docs.js")
    assert init.status_code == 200 and "SwaggerUIBundle(" in init.text
    assert client.get("/docs/assets/nope.js").status_code == 404
    # only what the page needs: not the bundle's demo page, which fetches the petstore schema
    for name in ("index.html", "swagger-initializer.js", "oauth2-redirect.html"):
        r = client.get(f"/docs/assets/{name}")
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_docs_answers_head_and_honours_root_path(app):
    from fastapi.testclient import TestClient

    assert TestClient(app).head("/docs").status_code == 200
    with TestClient(app, root_path="/propusk") as behind_proxy:
        page = behind_proxy.get("/docs").text
    assert "/propusk/docs/assets/swagger-ui-bundle.js" in page
    assert 'data-openapi-url="/propusk/openapi.json"' in page


def test_405_names_every_method_the_path_serves(client):
    """RFC 9110: ``Allow`` lists the supported methods, also where a path has one route per
    method (Starlette named only the first route's)."""
    r = client.put("/oauth2/userinfo")
    assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"
    assert r.headers["allow"] == "GET, POST"
    r = client.delete("/docs")
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD"


def test_redoc_is_off(client):
    assert client.get("/redoc").status_code == 404


def test_operation_ids_are_unique(app):
    """OpenAPI requires unique operationIds (client generators and Swagger UI's deep links key on
    them); a route serving GET and POST must be declared once per method."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # FastAPI warns on a duplicate
        schema = app.openapi()
    ids = [op["operationId"] for item in schema["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)) and "userinfo_get" in ids and "userinfo_post" in ids


# -- the contract /openapi.json states: every operation described, typed, secured ------------

METHODS = ("get", "put", "post", "delete", "patch")


def _operations(schema):
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def _typed_2xx(operation) -> bool:
    """A 2xx answer with a schema (JSON) or a declared media type; 204/3xx need no body."""
    responses = operation.get("responses", {})
    for status, answer in responses.items():
        if not status.startswith("2"):
            continue
        if status == "204":
            return True
        content = answer.get("content") or {}
        if not content:
            return False
        for media, body in content.items():
            if media.endswith("json") and not body.get("schema"):
                return False
            if media.endswith("json") and body["schema"] == {}:
                return False  # FastAPI's "any JSON": the route declares no answer model
        return True
    return any(s.startswith("3") for s in responses)


def test_every_operation_has_a_description_and_a_typed_2xx_answer(client):
    schema = client.get("/openapi.json").json()
    undescribed = [name for name, op in _operations(schema) if not op.get("description")]
    untyped = [name for name, op in _operations(schema) if not _typed_2xx(op)]
    assert undescribed == [], undescribed
    assert untyped == [], untyped


def test_guarded_operations_name_their_security_schemes(client):
    schema = client.get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["accessToken"]["scheme"] == "bearer"
    assert schemes["clientCredentials"]["flows"]["clientCredentials"]["tokenUrl"] == (
        "/oauth2/token"
    )
    # Swagger UI's dialog authenticates a client by Basic only and the token endpoint holds a
    # client to its registered method: the scheme tells a client_secret_post one what to do
    dialog = "/docs sends the secret in the Authorization header (client_secret_basic)"
    assert dialog in schemes["clientCredentials"]["description"]
    assert schemes["loginSession"]["in"] == "cookie"
    for name, op in _operations(schema):
        if op.get("x-public"):
            assert "security" not in op, name
        else:
            assert {k for s in op["security"] for k in s} == set(schemes), name
            for status in ("401", "403"):  # the guard's refusals, as problem details
                assert op["responses"][status]["content"], name


def test_refusals_are_declared_as_the_problems_the_app_writes(client):
    """A 422 is the validation problem the error handler writes (problem+json with ``errors``),
    never FastAPI's ``HTTPValidationError``; an API operation that reads a query or a JSON body
    declares the edge guard's 400, one whose path names an object its 404; and the answer the
    app gives to a bad request matches the declaration (the API fuzzer checks the rest:
    ``tests/security/test_fuzz_api.py``)."""
    schema = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    invalid = {"$ref": "#/components/schemas/ValidationProblem"}
    for name, op in _operations(schema):
        answers = op["responses"]
        if "422" in answers:
            assert answers["422"]["content"] == {PROBLEM_JSON: {"schema": invalid}}, name
        path = name.split(" ", 1)[1]
        if path.startswith("/api/") and "{" in path and not op.get("x-public"):
            assert PROBLEM_JSON in answers["404"]["content"], name
    assert "400" in schema["paths"]["/api/v1/policy/history"]["get"]["responses"]  # ?limit=
    consents = schema["paths"]["/api/v1/consents/{consent_id}/withdraw"]["post"]["responses"]
    assert {"400", "404", "409", "422", "429"} <= set(consents)
    r = client.post("/api/v1/consents/verify", json={"receipt": 5})  # public
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM_JSON
    body = r.json()
    assert body["status"] == 422 and body["errors"][0]["loc"][0] == "body"
