"""Wire idp.oidc into an app."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Routers, mounts and app state of idp.oidc."""
