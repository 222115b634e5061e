"""The application factory: the one place that wires the domain packages together."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from audit.wiring import install as install_audit
from biometrics.wiring import install as install_biometrics
from consent.wiring import install as install_consent
from idp.wiring import install as install_idp
from policies.wiring import install as install_policies
from propusk import __version__, caches
from propusk.apidocs import DOCS
from propusk.apidocs import POLICY as DOCS_POLICY
from propusk.apidocs import install as install_docs
from propusk.errors import install_error_handlers
from propusk.guards import JsonGuard
from propusk.headers import SecurityHeaders
from propusk.lanes import PropuskApp
from propusk.limits import BodyLimit
from propusk.logs import install_log_redaction
from propusk.metrics import register_database_gauges
from propusk.metrics import router as metrics_router
from propusk.observability import Observe, worker_exited
from propusk.routes import router as health_router
from propusk.runtime import Runtime, build_runtime
from propusk.settings import Settings
from propusk.web import install as install_web

log = logging.getLogger("propusk")


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """Build one app instance; several may share a database (multi-instance tests)."""
    runtime = runtime or build_runtime(settings)
    settings = runtime.settings
    settings.check_production()
    install_log_redaction()

    app = PropuskApp(
        title="Propusk",
        version=__version__,
        description="Identity, consent and personal-data governance for a school ЦОС.",
        docs_url=None,  # served from this server by propusk.apidocs (no CDN)
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.engine = runtime.engine
    app.state.sessionmaker = runtime.sessionmaker
    app.state.body_allowances = []  # larger body limits of upload routes (allow_larger_body)
    install_error_handlers(app)
    app.add_middleware(JsonGuard)
    app.include_router(health_router)
    app.include_router(metrics_router)

    # Dependency order: audit <- policies <- idp <- consent <- biometrics.
    install_audit(app)
    install_policies(app)
    install_idp(app)
    install_consent(app)
    install_biometrics(app)
    install_web(app)
    install_docs(app)
    # Added last, so outermost (each lane wraps the ones added before it): every response,
    # the lanes' and the mounted simulator's included, carries the security headers; no body
    # above its limit reaches a lane, a middleware, the policy or a parser.
    app.add_outer_lane(SecurityHeaders, page_policies={DOCS: DOCS_POLICY})
    app.add_outer_lane(
        BodyLimit, default=settings.max_body_bytes, allowances=app.state.body_allowances
    )
    # Outermost of all, the edge lanes included: every answer gets its request id and is
    # counted in the metrics (propusk.observability).
    app.add_edge_lane(Observe)
    register_database_gauges(app)
    app.router.on_shutdown.append(worker_exited)
    if runtime.engine.dialect.name == "postgresql":  # other instances' changes empty our caches
        _listen_for_cache_changes(app, runtime)
    return app


def _listen_for_cache_changes(app: FastAPI, runtime: Runtime) -> None:
    """From start-up to shutdown, this app's process hears other instances' changes
    (``propusk.caches``: one listener per process and database, shared by its apps)."""
    app.state.cache_listener = None

    def start() -> None:
        app.state.cache_listener = caches.subscribe(runtime.caches, runtime.settings.database_url)

    def stop() -> None:
        listener, app.state.cache_listener = app.state.cache_listener, None
        if listener is not None:
            caches.unsubscribe(listener)

    app.router.on_startup.append(start)
    app.router.on_shutdown.append(stop)
