"""The API reference at ``/docs`` (Swagger UI), served by this server.

FastAPI's default page loads Swagger UI from a CDN: it breaks in the closed networks schools and
data operators run in, and it would have every reader's browser run script from a third party
next to a live session cookie. The same Swagger UI ships in the ``swagger-ui-bundle-v2`` wheel
(5.x: renders the OpenAPI 3.1 schema FastAPI writes); the three files the page needs are served
from here — not the bundle's demo ``index.html``, whose initializer fetches the petstore schema
from the internet — with our own page and initializer script: the site's Content-Security-Policy
allows no inline script (``POLICY``). ReDoc has no such bundle and is off.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from swagger_ui_bundle import swagger_ui_path

from propusk.errors import PROBLEM_JSON, PROBLEM_SCHEMA_REF, problems

DOCS, ASSETS = "/docs", "/docs/assets"
FILES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
# Swagger UI's initializer, ours: the page allows no inline script (FastAPI's page has one).
INIT = "propusk-docs.js"
INIT_FILE = Path(__file__).parent / "web" / "static" / "apidocs.js"
# The page's Content-Security-Policy (``propusk.headers``): the site's, except that images may
# be ``data:`` URLs — swagger-ui.css draws its icons and arrows with inline SVG backgrounds.
# Script and style still come from this origin only.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" href="{assets}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/{init}"></script>
</body>
</html>
"""


TOKEN_URL = "/oauth2/token"
# How a caller authenticates (``components.securitySchemes``): the «Authorize» button of /docs.
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "accessToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": (
            "An access token from this server's token endpoint: a relying party's token of a "
            "person (held to the scopes the person granted) or an operator's or supplier's "
            "client token."
        ),
    },
    "clientCredentials": {
        "type": "oauth2",
        "description": (
            "An operator's or supplier's OAuth client (client_secret_basic or "
            "client_secret_post): the token it gets is sent as a bearer token. The «Authorize» "
            "dialog of /docs sends the secret in the Authorization header (client_secret_basic): "
            "a client registered for client_secret_post gets its token itself and pastes it "
            "under accessToken."
        ),
        "flows": {"clientCredentials": {"tokenUrl": TOKEN_URL, "scopes": {}}},
    },
    "loginSession": {
        "type": "apiKey",
        "in": "cookie",
        "name": "propusk_session",
        "description": (
            "The login cookie of Propusk's own pages (after ESIA login at /login); unsafe "
            "methods also need the session's CSRF token in X-CSRF-Token."
        ),
    },
}
# An operation that is not public accepts any of the three; the policy decides what each may do.
GUARDED = [{"accessToken": []}, {"clientCredentials": []}, {"loginSession": []}]
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


# RFC 9457 problem details: every refusal of the guard (``propusk.errors``).
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
    },
    "required": ["type", "title", "status"],
}
# A 422 is a problem too (``propusk.errors``), with the validation errors the pages translate.
VALIDATION_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details of invalid parameters or body",
    "properties": {
        **PROBLEM_SCHEMA["properties"],
        "errors": {
            "type": "array",
            "description": (
                "What is invalid: parameters and body (``loc``, ``msg``, ``type``, ``ctx``), a "
                "roster's lines (``line``, ``field``, ``message``) or a policy rule's fields"
            ),
            "items": {"type": ["object", "string"]},
        },
    },
    "required": ["type", "title", "status"],
}
REFUSALS = {
    "401": "No valid credentials (WWW-Authenticate says which)",
    "403": "The policy refuses this caller (the problem names the missing permission or scope)",
}


# ``propusk.guards.JsonGuard``: before any route, for every operation of the JSON API.
GUARD_REFUSAL = (
    "A query string or JSON body holding the NUL character, a JSON body nested too deep, or a "
    "refusal of the route (problem+json)"
)


def _reads_text(operation: dict[str, Any]) -> bool:
    """The operation takes a query string or a JSON body: what the edge guard inspects."""
    query = any(p.get("in") == "query" for p in operation.get("parameters", []))
    body = operation.get("requestBody", {}).get("content", {})
    return query or any("json" in media for media in body)


def add_security(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare the security schemes, require them on every non-public operation and document
    the guard's 401/403 answers there; every 422 is the validation problem the error handler
    writes (not FastAPI's ``HTTPValidationError``), an API operation that reads a query or a
    JSON body may be refused 400 by the edge guard (``propusk.guards``), and a guarded API
    operation whose path names an object may answer 404. A route declares its other refusals
    itself (``propusk.errors.problems``)."""
    components = schema.setdefault("components", {})
    components["securitySchemes"] = SECURITY_SCHEMES
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["ValidationProblem"] = VALIDATION_PROBLEM_SCHEMA
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    problem = {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}}
    invalid = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ValidationProblem"}}}
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            answers = operation.setdefault("responses", {})
            if "422" in answers:
                answers["422"] = {"description": "Invalid parameters or body", "content": invalid}
            if path.startswith("/api/") and _reads_text(operation):
                answers.setdefault("400", {"description": GUARD_REFUSAL, "content": problem})
            if operation.get("x-public"):
                continue
            operation.setdefault("security", GUARDED)
            for status, description in REFUSALS.items():
                answer = answers.setdefault(status, {"description": description})
                answer.setdefault("content", problem)
            if "{" in path and path.startswith("/api/"):
                answers.setdefault("404", problems(404)[404])
    return schema


def install_openapi(app: FastAPI) -> None:
    """``/openapi.json`` as FastAPI builds it, plus the security schemes (built once)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_security(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    """The page and its assets (GET and HEAD, public: ``/openapi.json`` is public too)."""
    install_openapi(app)

    async def page(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")  # behind a path-prefix proxy
        return HTMLResponse(
            PAGE.format(
                title=html.escape(f"{app.title} — API"),
                assets=html.escape(root + ASSETS),
                openapi=html.escape(root + (app.openapi_url or "/openapi.json")),
                init=INIT,
            )
        )

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name == INIT:
            path, media = INIT_FILE, "text/javascript; charset=utf-8"
        elif name in FILES:
            path, media = swagger_ui_path / name, FILES[name]
        else:
            raise HTTPException(404)
        return FileResponse(
            path, media_type=media, headers={"Cache-Control": "public, max-age=86400"}
        )

    app.add_route(DOCS, page, include_in_schema=False)
    app.add_route(ASSETS + "/{name}", asset, include_in_schema=False)
