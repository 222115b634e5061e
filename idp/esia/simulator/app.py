"""The ESIA simulator: a separate ASGI app speaking ESIA's protocol (esia-notes, "contract").

This module assembles it: the protocol endpoints (``protocol``: authorization and token), the
REST resources (``rest``), the pages and files (``pages``) over one in-memory ``state``, with
the configuration of ``config`` and the demo people of ``data``. Mount it under ``/esia-sim``
(``create_lazy_simulator_app``, built on its first request) or serve it alone
(``propusk esia simulator``).

Our own addition: ``GET /public/cert.pem`` publishes the simulator's signing certificate (real
ESIA publishes ``/public/esia.zip``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from idp.esia.simulator.config import SimulatorConfig
from idp.esia.simulator.pages import Pages
from idp.esia.simulator.protocol import Protocol
from idp.esia.simulator.rest import Resources
from idp.esia.simulator.state import SimulatorState
from propusk.settings import Settings


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_simulator_app(config: SimulatorConfig) -> Starlette:
    """The simulator as an ASGI app: mount it under ``/esia-sim`` or serve it alone."""
    state = SimulatorState(lambda: config.clock())  # through config: a swapped clock is seen
    protocol, resources, pages = Protocol(config, state), Resources(config, state), Pages(config)
    routes = [
        Route("/", pages.index),
        Route("/healthz", health),
        Route("/aas/oauth2/v2/ac", protocol.authorize, methods=["GET"]),
        Route("/aas/oauth2/v2/ac", protocol.choose, methods=["POST"]),
        Route("/aas/oauth2/v3/te", protocol.token, methods=["POST"]),
        Route("/idp/ext/Logout", pages.logout),
        Route("/public/cert.pem", pages.cert_pem),
        Route("/public/cert.der", pages.cert_der),
        Route("/static/simulator.css", pages.stylesheet),
        Route("/rs/prns/{oid}", resources.person),
        Route("/rs/prns/{oid}/{collection}", resources.collection),
        Route("/rs/prns/{oid}/{collection}/{item}", resources.element),
        Route("/rs/orgs/{org_oid}", resources.organization),
    ]
    app = Starlette(routes=routes)
    app.state.simulator_config = config
    return app


class _LazySimulator:
    """Builds the simulator on its first request, so mounting it costs no key generation."""

    def __init__(self, factory: Callable[[], Starlette]) -> None:
        self._factory = factory
        self._app: Starlette | None = None
        self._lock = threading.Lock()

    def _build(self) -> Starlette:
        with self._lock:
            if self._app is None:
                self._app = self._factory()
            return self._app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        app = self._app or await run_in_threadpool(self._build)
        await app(scope, receive, send)


def create_lazy_simulator_app(settings: Settings) -> _LazySimulator:
    """The simulator paired with this instance's connector (``SimulatorConfig.from_settings``)."""
    return _LazySimulator(lambda: create_simulator_app(SimulatorConfig.from_settings(settings)))
