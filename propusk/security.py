"""Who is calling: the principal every policy decision is made for.

The kernel defines the shape; ``idp`` resolves it from a bearer token or the login cookie and
the app factory installs that resolver, so ``policies`` can enforce without importing ``idp``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from fastapi import Request
from sqlalchemy.orm import Session

PrincipalKind = Literal["anonymous", "person", "client", "platform_admin"]
# How the caller authenticated. "session": Propusk's own pages (the login cookie; every
# cookie-authenticated state change also passed the CSRF check). "token": a bearer access token
# that a relying party holds for the person (acts only within its granted scopes,
# ``policies.delegation``). "client": a client's own token (client_credentials). "none": not
# authenticated, or a principal built by a tool that did not say (treated as delegated).
Channel = Literal["none", "session", "token", "client"]


@dataclass(frozen=True)
class RoleGrant:
    """One role in one domain, e.g. ``("teacher", "school:<uuid>")``."""

    role: str
    domain: str
    attrs: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class AuthContext:
    """The authentication of a login session: what a signature records about its signer.

    ``method`` names the upstream and its method (``esia:pwd``); ``acr`` the assurance level
    (``idp.oidc.acr``); ``confirmed`` whether the ESIA account was confirmed at login;
    ``session_hash`` the login session's id hash (its CSRF token is derived from it)."""

    auth_time: datetime
    method: str
    acr: str | None = None
    confirmed: bool = False
    session_hash: str | None = field(default=None, repr=False)

    @property
    def session_ref(self) -> str | None:
        """A short reference to the login session, as a signature records it."""
        return self.session_hash[:16] if self.session_hash else None


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    subject: str  # "anonymous", "person:<uuid>", "client:<client_id>"
    person_id: uuid.UUID | None = None
    client_id: str | None = None
    organization_id: uuid.UUID | None = None  # operator / supplier org bound to a client
    scopes: frozenset[str] = frozenset()
    roles: tuple[RoleGrant, ...] = ()
    channel: Channel = "none"
    auth: AuthContext | None = None  # the login behind a "session" principal

    @property
    def is_anonymous(self) -> bool:
        return self.kind == "anonymous"

    @property
    def first_party(self) -> bool:
        """Acting in Propusk's own pages (login cookie), not through a relying party."""
        return self.channel == "session"


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
