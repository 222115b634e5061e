"""Who is calling: the principal every policy decision is made for.

The kernel defines the shape; ``idp`` resolves it from a bearer token or the login cookie and
the app factory installs that resolver, so ``policies`` can enforce without importing ``idp``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from fastapi import Request
from sqlalchemy.orm import Session

PrincipalKind = Literal["anonymous", "person", "client", "platform_admin"]


@dataclass(frozen=True)
class RoleGrant:
    """One role in one domain, e.g. ``("teacher", "school:<uuid>")``."""

    role: str
    domain: str
    attrs: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    subject: str  # "anonymous", "person:<uuid>", "client:<client_id>"
    person_id: uuid.UUID | None = None
    client_id: str | None = None
    organization_id: uuid.UUID | None = None  # operator / supplier org bound to a client
    scopes: frozenset[str] = frozenset()
    roles: tuple[RoleGrant, ...] = ()

    @property
    def is_anonymous(self) -> bool:
        return self.kind == "anonymous"


ANONYMOUS = Principal(kind="anonymous", subject="anonymous")

PrincipalResolver = Callable[[Request, Session], Principal]


def resolve_principal(request: Request, session: Session) -> Principal:
    """Resolve once per request (cached on request.state) with the installed resolver."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    resolver: PrincipalResolver | None = getattr(request.app.state, "principal_resolver", None)
    principal = resolver(request, session) if resolver else ANONYMOUS
    request.state.principal = principal
    return principal
