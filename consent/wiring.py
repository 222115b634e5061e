"""Wire the consent package into an app: routers, the gated pull fast lane and its batcher."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi.staticfiles import StaticFiles

from consent.batcher import PullBatcher
from consent.fastpath import GatedPullLane
from consent.pages import router as pages
from consent.routes import router
from propusk.lanes import PropuskApp

STATIC = Path(__file__).parent / "static"


def install(app: PropuskApp) -> None:
    app.include_router(router)
    app.include_router(pages)
    _mount_static(app)
    workers = app.state.settings.consent_pull_workers
    app.state.consent_pulls = None
    if workers == 0:
        return
    batcher = PullBatcher(app.state.sessionmaker, app.state.settings, workers=workers)
    app.state.consent_pulls = batcher
    app.router.on_startup.append(batcher.start)

    async def stop() -> None:
        """Off the event loop: the workers finish their batches and settle their callers'
        futures on the loop, which must keep running meanwhile."""
        await asyncio.to_thread(batcher.stop)

    # first on shutdown: its last records' audit events are then sequenced before the sequencer
    # thread stops
    app.router.on_shutdown.insert(0, stop)
    app.add_outer_lane(GatedPullLane, fastapi_app=app, batcher=batcher)


def _mount_static(app: PropuskApp) -> None:
    """Consent pages' own stylesheets and scripts, if any (pages carry no inline style or
    script: ``propusk.headers``); the art. 14 answer uses the site's ``/static/document.css``.
    Mounted before the web UI's ``/static``, so it is matched first."""
    if STATIC.is_dir():
        app.mount("/static/consent", StaticFiles(directory=str(STATIC)), name="consent-static")
