"""Wire the idp package: OIDC provider, ESIA connector/simulator, people and schools."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    from idp.esia.wiring import install as install_esia
    from idp.oidc.wiring import install as install_oidc
    from idp.routes import router

    install_oidc(app)
    install_esia(app)
    app.include_router(router)
