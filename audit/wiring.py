"""Wire the audit package into an app: routers, app state, the outbox sequencer thread."""

from __future__ import annotations

from fastapi import FastAPI

SEQUENCE_INTERVAL_SECONDS = 0.1


def install(app: FastAPI) -> None:
    from audit.routes import router
    from audit.sequencer import Sequencer

    app.state.audit_sequencer = None
    if app.state.settings.database_url.startswith("postgresql"):  # SQLite appends at once
        sequencer = Sequencer(app.state.sessionmaker, interval=SEQUENCE_INTERVAL_SECONDS)
        app.state.audit_sequencer = sequencer
        app.router.on_startup.append(sequencer.start)
        app.router.on_shutdown.append(sequencer.stop)
    app.include_router(router)
