"""The web UI (Russian): participant cabinet, consoles. Jinja2 templates, a little JS."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from propusk.web.routes import HERE, router


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(router)
