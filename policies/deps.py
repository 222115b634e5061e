"""The one FastAPI dependency that guards every route: ``require(object, action)``.

Usage in a route::

    @router.get("/api/v1/schools/{school_id}/roster")
    def roster(school_id: UUID, principal: Principal = require(
        "roster", "read", domain_param="school_id"), session: SessionDep): ...

The request domain is ``*`` unless the route names one: ``domain_param="school_id"``
(``school:<value>``), ``domain="org:{org_id}"`` (a template over path parameters) or
``domain=lambda request: ...``. In domain ``*`` the call is allowed if any domain the caller
holds a role in allows it; handlers then call ``policies.service.authorize`` with the resource.
Deny by default: 403 problem+json naming the missing permission (401 for anonymous callers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute

from policies import service
from policies.engine import CURRENT, PolicyEngine
from propusk.deps import PrincipalDep
from propusk.security import Principal

DomainSpec = str | Callable[[Request], str] | None


def engine_of(app: FastAPI) -> PolicyEngine:
    engine = getattr(app.state, "policy_engine", None)
    if engine is None:
        raise RuntimeError("policies.wiring.install(app) has not run")
    return engine


def _domain_resolver(domain: DomainSpec, domain_param: str | None) -> Callable[[Request], str]:
    if domain_param is not None:
        prefix = "org" if domain_param.startswith("org") else "school"
        domain = f"{prefix}:{{{domain_param}}}"
    if domain is None:
        return lambda request: "*"
    if callable(domain):
        return domain
    template = domain

    def from_path(request: Request) -> str:
        try:
            return template.format_map(request.path_params)
        except (KeyError, ValueError, IndexError):
            return "?"  # not a valid domain: denied

    return from_path


def require(
    obj: str, act: str, *, domain: DomainSpec = None, domain_param: str | None = None
) -> Any:
    """A ``Depends`` that resolves the caller and enforces (obj, act) in the request's domain.

    ``domain_param`` names a path parameter (``school_id`` -> ``school:<id>``, ``org_id`` ->
    ``org:<id>``); ``domain`` is a template such as ``"school:{school_id}"`` or a callable.
    """
    resolve_domain = _domain_resolver(domain, domain_param)

    async def _check(request: Request, principal: PrincipalDep) -> Principal:
        engine = engine_of(request.app)
        CURRENT.set(engine)  # for service.authorize() in the handler
        decision = service.decide(
            principal, obj, act, domain=resolve_domain(request), engine=engine
        )
        request.state.policy_decision = decision
        if not decision.allowed:
            raise service.denial(decision, principal)
        return principal

    _check.policy = (obj, act)  # the route-walk test looks for this marker
    return Depends(_check)


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
