"""The policy side of the route guard, and the walk over every route's declared policy.

``propusk.deps.require(object, action)`` is the one dependency that guards every route; it calls
the app's guard, built here (``guard_for``) around the policy engine and installed by
``policies.wiring``: deny by default, 403 problem+json naming the missing permission (401 for
anonymous callers). ``iter_routes`` lists every endpoint with the policy it declares (the
route-walk tests and ``policy explain``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from policies import service
from policies.engine import CURRENT, PolicyEngine
from propusk.security import Principal


def engine_of(app: FastAPI) -> PolicyEngine:
    engine = getattr(app.state, "policy_engine", None)
    if engine is None:
        raise RuntimeError("policies.wiring.install(app) has not run")
    return engine


def guard_for(engine: PolicyEngine) -> Callable[[Principal, str, str, str], service.Decision]:
    """The app's ``policy_guard`` (``propusk.deps.require`` calls it on every guarded route)."""

    def guard(principal: Principal, obj: str, act: str, domain: str) -> service.Decision:
        CURRENT.set(engine)  # for service.authorize() in the handler
        decision = service.decide(principal, obj, act, domain=domain, engine=engine)
        if not decision.allowed:
            raise service.denial(decision, principal)
        return decision

    return guard


@dataclass(frozen=True)
class RouteInfo:
    """One endpoint as served (prefixes of included routers applied)."""

    path: str
    methods: frozenset[str]
    policy: tuple[str, str] | None
    public: bool
    api: bool  # a FastAPI route (mounts and plain Starlette routes are not)


def _policy_of(dependant: Any) -> tuple[str, str] | None:
    if dependant is None:
        return None
    found = getattr(dependant.call, "policy", None)
    if found is not None:
        return found
    for sub in dependant.dependencies:
        found = _policy_of(sub)
        if found is not None:
            return found
    return None


def iter_routes(app: FastAPI) -> Iterator[RouteInfo]:
    """Every endpoint of the app with the policy it declares (walks included routers)."""
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for ctx in contexts():
                original = ctx.original_route
                yield RouteInfo(
                    ctx.path or getattr(original, "path", ""),
                    frozenset(ctx.methods or getattr(original, "methods", None) or ()),
                    _policy_of(ctx.dependant or getattr(original, "dependant", None)),
                    bool((ctx.openapi_extra or {}).get("x-public")),
                    isinstance(original, APIRoute),
                )
        else:
            extra = getattr(route, "openapi_extra", None) or {}
            yield RouteInfo(
                getattr(route, "path", ""),
                frozenset(getattr(route, "methods", None) or ()),
                _policy_of(getattr(route, "dependant", None)),
                bool(extra.get("x-public")),
                isinstance(route, APIRoute),
            )
