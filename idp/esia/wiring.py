"""Wire idp.esia into an app: the simulator mount and the ESIA upstream on ``app.state``."""

from __future__ import annotations

from fastapi import FastAPI

from propusk.settings import Settings

SIMULATOR_MOUNT = "/esia-sim"


def simulator_enabled(settings: Settings) -> bool:
    """Mounted in demo mode or when the simulator is the upstream, never in production."""
    return settings.env != "production" and (settings.demo or settings.upstream == "simulator")


def install(app: FastAPI) -> None:
    """Mount the simulator at ``/esia-sim`` and expose ``app.state.esia_upstream``.

    The upstream is built lazily (``idp.esia.wiring.esia_upstream(app)``) so that creating an
    app costs no key loading; the callback route ``/login/esia/callback`` belongs to idp.oidc.
    """
    from idp.esia.gost import set_backend

    settings: Settings = app.state.settings
    set_backend(settings.esia_gost_backend)
    app.state.esia_upstream = None
    if simulator_enabled(settings):
        from idp.esia.simulator.app import create_lazy_simulator_app

        app.mount(SIMULATOR_MOUNT, create_lazy_simulator_app(settings), name="esia-sim")


def esia_upstream(app: FastAPI):
    """The app's ESIA upstream (``idp.esia.upstream.EsiaUpstream``), built on first use."""
    from idp.esia.upstream import build_upstream

    if app.state.esia_upstream is None:
        app.state.esia_upstream = build_upstream(app.state.settings)
    return app.state.esia_upstream
