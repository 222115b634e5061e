"""Wire the idp package: OIDC provider, ESIA connector/simulator, people and schools."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from idp.esia.wiring import install as install_esia
from idp.oidc import keys
from idp.oidc.wiring import install as install_oidc
from idp.roster import MAX_BYTES as ROSTER_MAX_BYTES
from idp.routes import router
from idp.staff_routes import router as staff_router
from propusk.limits import allow_larger_body

KEYS_RETRY_MAX_SECONDS = 30.0


def install(app: FastAPI) -> None:
    install_oidc(app)
    install_esia(app)
    app.include_router(router)
    app.include_router(staff_router)
    _allow_roster_uploads(app)
    _provision_keys_at_startup(app)


def _allow_roster_uploads(app: FastAPI) -> None:
    """The roster import takes up to ``roster.MAX_BYTES`` of CSV, as a text/csv body or one
    multipart file: that plus room for the multipart framing, above the app's default limit."""
    allow_larger_body(
        app,
        "roster import",
        r"/api/v1/schools/[^/]+/roster(/preview|/apply)?",
        ROSTER_MAX_BYTES + 64 * 1024,
    )


def _provision_keys_at_startup(app: FastAPI) -> None:
    """The service signing keys exist before the first request (the JWKS and the token lanes
    only read them). If the database is not reachable yet, retry in the background."""
    app.state.keys_provisioning = None

    def provision() -> bool:
        return keys.provision(app.state.sessionmaker, app.state.settings)

    async def retry() -> None:
        delay = 1.0
        while True:
            await asyncio.sleep(delay)
            if await run_in_threadpool(provision):
                return
            delay = min(delay * 2, KEYS_RETRY_MAX_SECONDS)

    async def start() -> None:
        if not await run_in_threadpool(provision):
            app.state.keys_provisioning = asyncio.get_running_loop().create_task(retry())

    async def stop() -> None:
        task = app.state.keys_provisioning
        if task is not None:
            task.cancel()

    app.router.on_startup.append(start)
    app.router.on_shutdown.append(stop)
