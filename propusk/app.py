"""The application factory: the one place that wires the domain packages together."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from propusk import __version__
from propusk.errors import install_error_handlers
from propusk.guards import NulGuard
from propusk.logs import install_log_redaction
from propusk.routes import router as health_router
from propusk.runtime import Runtime, build_runtime
from propusk.settings import Settings

log = logging.getLogger("propusk")


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """Build one app instance; several may share a database (multi-instance tests)."""
    runtime = runtime or build_runtime(settings)
    settings = runtime.settings
    settings.check_production()
    install_log_redaction()

    app = FastAPI(
        title="Propusk",
        version=__version__,
        description="Identity, consent and personal-data governance for a school ЦОС.",
    )
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.engine = runtime.engine
    app.state.sessionmaker = runtime.sessionmaker
    install_error_handlers(app)
    app.add_middleware(NulGuard)
    app.include_router(health_router)

    # Dependency order: audit <- policies <- idp <- consent <- biometrics.
    from audit.wiring import install as install_audit
    from biometrics.wiring import install as install_biometrics
    from consent.wiring import install as install_consent
    from idp.wiring import install as install_idp
    from policies.wiring import install as install_policies
    from propusk.web import install as install_web

    install_audit(app)
    install_policies(app)
    install_idp(app)
    install_consent(app)
    install_biometrics(app)
    install_web(app)
    return app
