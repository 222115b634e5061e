"""Shared FastAPI dependencies: the request's session, settings, principal and policy guard.

The kernel owns the *shape* of the two per-request checks every package needs and the packages
that implement them install the implementation on the app: ``idp`` the principal resolver
(``app.state.principal_resolver``), ``policies`` the guard (``app.state.policy_guard``). So
``audit`` — the lowest layer — guards its routes like everyone else without importing
``policies`` (dependencies point one way: audit ← policies ← idp ← consent ← biometrics).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from propusk.db import get_session
from propusk.errors import TooManyRequests
from propusk.ratelimit import parse_rule
from propusk.security import Principal, resolve_principal
from propusk.settings import Settings

# scope="function": commit (or roll back) before the response is sent.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

DomainSpec = str | Callable[[Request], str] | None


def _settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(_settings)]


def _principal(request: Request, session: SessionDep) -> Principal:
    return resolve_principal(request, session)


PrincipalDep = Annotated[Principal, Depends(_principal)]


class PolicyGuard(Protocol):
    """Decides (principal, object, action) in a domain; raises the 401/403 problem if denied.

    Installed by ``policies.wiring`` as ``app.state.policy_guard``; returns the decision (kept
    on ``request.state.policy_decision`` for the handler and ``policy explain``)."""

    def __call__(self, principal: Principal, obj: str, act: str, domain: str) -> Any: ...


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


def policy_guard(request: Request) -> PolicyGuard:
    guard = getattr(request.app.state, "policy_guard", None)
    if guard is None:
        raise RuntimeError("policies.wiring.install(app) has not run")
    return guard


def take_limit(request: Request, setting: str, key: str) -> None:
    """Count one event of the rate limit ``Settings.<setting>`` (``"<events>/<seconds>"``) for
    ``key`` — a person, a school; raise ``TooManyRequests`` (429, ``Retry-After``) when over.
    Shared by every instance through Redis (``Runtime.limiter``)."""
    rule = parse_rule(setting, getattr(request.app.state.settings, setting))
    verdict = request.app.state.runtime.limiter.take(rule, key)
    if not verdict.allowed:
        raise TooManyRequests(verdict.retry_after)


def require(
    obj: str,
    act: str,
    *,
    domain: DomainSpec = None,
    domain_param: str | None = None,
    limit: str | None = None,
    limit_per: str | None = None,
) -> Any:
    """A ``Depends`` that resolves the caller and enforces (obj, act) in the request's domain.

    Usage in a route::

        @router.get("/api/v1/schools/{school_id}/roster")
        def roster(school_id: UUID, principal: Principal = require(
            "roster", "read", domain_param="school_id"), session: SessionDep): ...

    The request domain is ``*`` unless the route names one: ``domain_param`` names a path
    parameter (``school_id`` -> ``school:<id>``, ``org_id`` -> ``org:<id>``); ``domain`` is a
    template such as ``"school:{school_id}"`` or a callable. In domain ``*`` the call is allowed
    if any domain the caller holds a role in allows it; handlers then call
    ``policies.service.authorize`` with the resource. Deny by default: 403 problem+json naming
    the missing permission (401 for anonymous callers).

    ``limit`` names a rate-limit setting (``"rate_consent_decisions"``) counted once the
    policy allowed the call (``take_limit``): a refused caller spends no budget. The count is
    per caller, or per ``limit_per`` — a template of the path's parameters such as
    ``"school:{school_id}"`` (every admin of one school shares the school's budget).
    """
    resolve_domain = _domain_resolver(domain, domain_param)

    async def _check(request: Request, principal: PrincipalDep) -> Principal:
        guard = policy_guard(request)
        request.state.policy_decision = guard(principal, obj, act, resolve_domain(request))
        if limit is not None:
            key = limit_per.format_map(request.path_params) if limit_per else principal.subject
            await run_in_threadpool(take_limit, request, limit, key)
        return principal

    _check.policy = (obj, act)  # the route-walk test looks for this marker
    return Depends(_check)
