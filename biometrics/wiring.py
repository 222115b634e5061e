"""Wire the biometrics package into an app: routers, app state, startup work."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    from biometrics.routes import router

    app.include_router(router)
