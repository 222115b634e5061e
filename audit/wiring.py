"""Wire the audit package into an app: routers, app state, the sequencer thread (outbox and
checkpoint signing)."""

from __future__ import annotations

from fastapi import FastAPI

from audit.routes import router
from audit.sequencer import Sequencer

SEQUENCE_INTERVAL_SECONDS = 0.1


def install(app: FastAPI) -> None:
    settings = app.state.settings
    sequencer = Sequencer(
        app.state.sessionmaker,
        interval=SEQUENCE_INTERVAL_SECONDS,
        settings=settings,
        # SQLite appends at once (no outbox): there the thread only signs checkpoints
        # and with an external sequencer process the thread leaves the outbox to it
        integrate=settings.database_url.startswith("postgresql")
        and settings.audit_sequencer == "thread",
    )
    app.state.audit_sequencer = sequencer
    app.router.on_startup.append(sequencer.start)
    app.router.on_shutdown.append(sequencer.stop)
    app.include_router(router)
