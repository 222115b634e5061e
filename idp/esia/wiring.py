"""Wire idp.esia into an app: the GOST backend and, outside production, the simulator mount.

The ESIA upstream itself is built by idp.oidc on first use (``OidcRuntime.upstream``), so that
creating an app costs no key loading; the callback route ``/login/esia/callback`` belongs to
idp.oidc too.
"""

from __future__ import annotations

from fastapi import FastAPI

from idp.esia.gost import set_backend
from idp.esia.simulator.app import create_lazy_simulator_app
from propusk.settings import Settings

SIMULATOR_MOUNT = "/esia-sim"


def simulator_enabled(settings: Settings) -> bool:
    """Mounted in demo mode or when the simulator is the upstream, never in production."""
    return settings.env != "production" and (settings.demo or settings.upstream == "simulator")


def install(app: FastAPI) -> None:
    """Choose the GOST arithmetic and mount the simulator at ``/esia-sim`` (built lazily)."""
    settings: Settings = app.state.settings
    set_backend(settings.esia_gost_backend)
    if simulator_enabled(settings):
        app.mount(SIMULATOR_MOUNT, create_lazy_simulator_app(settings), name="esia-sim")
