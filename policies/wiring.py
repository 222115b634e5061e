"""Wire the policies package into an app: the engine, its listener, the routes."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from policies.deps import guard_for
from policies.engine import make_engine_for
from policies.listener import PolicyListener
from policies.routes import router

log = logging.getLogger("propusk.policies")

POLL_INTERVAL_SECONDS = 5.0


def install(app: FastAPI) -> None:
    engine = make_engine_for(app.state.sessionmaker, app.state.engine)
    app.state.policy_engine = engine
    app.state.policy_guard = guard_for(engine)
    listener = PolicyListener(
        engine, app.state.settings.database_url, interval=POLL_INTERVAL_SECONDS
    )
    app.state.policy_listener = listener

    def _start() -> None:
        try:  # load before the first request (100,000 links take about a second)
            engine.snapshot()
        except Exception:  # e.g. an unmigrated database: the first request retries
            log.exception("policy not loaded at startup")
        listener.start()

    def _stop() -> None:
        listener.stop()

    app.router.on_startup.append(_start)
    app.router.on_shutdown.append(_stop)
    app.include_router(router)
