"""The API reference at ``/docs`` (Swagger UI), served by this server.

FastAPI's default page loads Swagger UI from a CDN: it breaks in the closed networks schools and
data operators run in, and it would have every reader's browser run script from a third party
next to a live session cookie. The same Swagger UI ships in the ``swagger-ui-bundle-v2`` wheel
(5.x: renders the OpenAPI 3.1 schema FastAPI writes); its files are served from here. ReDoc has
no such bundle and is off.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS, ASSETS = "/docs", "/docs/assets"


def install(app: FastAPI) -> None:
    """Mount the bundled Swagger UI files and the page that loads them (public: the schema at
    ``/openapi.json`` is public too)."""
    from swagger_ui_bundle import swagger_ui_path

    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")

    @app.get(DOCS, include_in_schema=False, openapi_extra={"x-public": True})
    async def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )
