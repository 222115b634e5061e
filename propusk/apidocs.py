"""The API reference at ``/docs`` (Swagger UI), served by this server.

FastAPI's default page loads Swagger UI from a CDN: it breaks in the closed networks schools and
data operators run in, and it would have every reader's browser run script from a third party
next to a live session cookie. The same Swagger UI ships in the ``swagger-ui-bundle-v2`` wheel
(5.x: renders the OpenAPI 3.1 schema FastAPI writes); the three files the page needs are served
from here — not the bundle's demo ``index.html``, whose initializer fetches the petstore schema
from the internet. ReDoc has no such bundle and is off.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

DOCS, ASSETS = "/docs", "/docs/assets"
FILES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}


def install(app: FastAPI) -> None:
    """The page and its assets (GET and HEAD, public: ``/openapi.json`` is public too)."""
    from swagger_ui_bundle import swagger_ui_path

    async def page(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")  # behind a path-prefix proxy
        return get_swagger_ui_html(
            openapi_url=root + (app.openapi_url or "/openapi.json"),
            title=f"{app.title} — API",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon-32x32.png",
        )

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in FILES:
            raise HTTPException(404)
        return FileResponse(
            swagger_ui_path / name,
            media_type=FILES[name],
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.add_route(DOCS, page, include_in_schema=False)
    app.add_route(ASSETS + "/{name}", asset, include_in_schema=False)
