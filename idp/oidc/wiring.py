"""Wire idp.oidc into an app: routes, the principal resolver, caches, the upstream."""

from __future__ import annotations

import time
from contextlib import asynccontextmanager

import orjson
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from idp.dev_upstream import DevUpstream
from idp.esia.upstream import build_upstream as build_esia_upstream
from idp.oidc import keys
from idp.oidc.admin_routes import router as admin_router
from idp.oidc.authorize import router as authorize_router
from idp.oidc.clientauth import AuthFailures
from idp.oidc.fastpath import FastPath, TokenFastLane
from idp.oidc.login_routes import router as login_router
from idp.oidc.principal import ClientBearers, resolve
from idp.oidc.routes import router
from idp.oidc.session_routes import router as session_router
from propusk.db import session_scope
from propusk.errors import declare_oauth_endpoints
from propusk.ratelimit import RateLimiter
from propusk.settings import Settings

JWKS_TTL = 5.0
# The protocol endpoints whose callers are OAuth clients (the others are browsers' pages).
OAUTH_ENDPOINTS = ("/oauth2/token", "/oauth2/introspect", "/oauth2/revoke", "/oauth2/userinfo")


def build_upstream(settings: Settings):
    """The login upstream chosen by ``settings.upstream`` (ESIA plugs in here)."""
    if settings.upstream == "dev":
        return DevUpstream(settings)
    return build_esia_upstream(settings)


class OidcRuntime:
    """Per-app state of idp.oidc (``app.state.oidc``)."""

    def __init__(self, settings: Settings, sessionmaker, limiter: RateLimiter) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.failures = AuthFailures(limiter, settings)
        self.fast = FastPath(sessionmaker, settings, self.failures)
        self.bearers = ClientBearers(sessionmaker, settings, self.fast.clients)
        self._upstream = None
        self._jwks: tuple[float, int, bytes] | None = None

    def load_jwks(self) -> bytes:
        """Blocking: the published keys (provisioned at start-up; read only), serialized once."""
        gen = keys.generation()
        with session_scope(self.sessionmaker) as session:
            body = orjson.dumps(keys.public_jwks(session))
        self._jwks = (time.monotonic(), gen, body)
        return body

    async def jwks(self) -> bytes:
        """The JWKS document; another instance's rotation empties it (``propusk.caches``)."""
        hit = self._jwks
        if hit is not None and time.monotonic() - hit[0] < JWKS_TTL and hit[1] == keys.generation():
            return hit[2]
        return await run_in_threadpool(self.load_jwks)

    def upstream(self):
        """Built on first use, so an app without a login upstream still serves tokens."""
        if self._upstream is None:
            self._upstream = build_upstream(self.settings)
        return self._upstream


def install(app: FastAPI) -> None:
    """Routers, app state and the principal resolver of idp.oidc."""
    settings: Settings = app.state.settings
    if settings.upstream == "dev" and settings.env == "production":
        raise RuntimeError("the development upstream is refused in production")
    app.state.oidc = OidcRuntime(settings, app.state.sessionmaker, app.state.runtime.limiter)
    app.state.principal_resolver = resolve
    app.include_router(router)
    # their failures, a database outage's included, are OAuth error bodies (propusk.errors)
    declare_oauth_endpoints(app, *OAUTH_ENDPOINTS)
    app.include_router(authorize_router)
    app.include_router(login_router)
    app.include_router(admin_router)
    app.include_router(session_router)
    app.add_edge_lane(TokenFastLane, fast=app.state.oidc.fast)

    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a):
        async with inner(a) as state:
            yield state
        await app.state.oidc.fast.audit.aclose()  # flush buffered token.issued events

    app.router.lifespan_context = lifespan
