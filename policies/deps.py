"""The one FastAPI dependency that guards every route: ``require(object, action)``.

PLACEHOLDER until issue 4 lands: resolves the principal, denies anonymous callers.
Usage in a route::

    @router.get("/api/v1/things/{id}")
    def get_thing(id: UUID, principal: Principal = require("thing", "read"), session: SessionDep):
        ...
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request

from propusk.deps import SessionDep
from propusk.errors import Forbidden, Unauthorized
from propusk.security import Principal, resolve_principal


def require(obj: str, act: str) -> Any:
    def _check(request: Request, session: SessionDep) -> Principal:
        principal = resolve_principal(request, session)
        if principal.is_anonymous:
            raise Unauthorized(f"permission {obj}:{act} needs an authenticated caller")
        if not principal.roles and principal.kind != "platform_admin":
            raise Forbidden(f"missing permission {obj}:{act}", permission=f"{obj}:{act}")
        return principal

    _check.policy = (obj, act)  # the route-walk test looks for this marker
    return Depends(_check)
