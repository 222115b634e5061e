"""The person's own session and applications, for Propusk's pages (first party only).

``GET /api/v1/session`` gives the page its CSRF token and what it needs to know about the
login (when and how the person authenticated: the signing page asks for a fresh login before
a written-form signature). ``/api/v1/me/applications`` lists the relying parties the person let
in on the consent screen and revokes them. None of these is open to a relying party's token
(``policies.delegation`` opens no scope for them).
"""

from __future__ import annotations

from fastapi import APIRouter

from idp.oidc import appgrants, csrf
from idp.oidc.schemas import ApplicationOut, ApplicationRevoked, SessionOut
from policies.delegation import describe
from propusk.deps import SessionDep, SettingsDep, require
from propusk.errors import Forbidden
from propusk.security import Principal

router = APIRouter(prefix="/api/v1", tags=["session"])


@router.get("/session", response_model=SessionOut)
def current_session(
    settings: SettingsDep, principal: Principal = require("session", "read")
) -> SessionOut:
    """The login session behind the cookie, with its CSRF token (what the resolver read)."""
    token = csrf.token_of(settings, principal)
    if token is None or principal.person_id is None:
        raise Forbidden("only in Propusk's own pages", type="first-party-only")
    auth = principal.auth
    return SessionOut(
        person_id=principal.person_id,
        csrf_token=token,
        auth_time=auth.auth_time,
        method=auth.method,
        acr=auth.acr,
        confirmed=auth.confirmed,
    )


def _scope_texts(scopes: list[str]) -> list[str]:
    learns, acts = describe(" ".join(s for s in scopes if s != "openid"))
    return learns + acts


@router.get("/me/applications", response_model=list[ApplicationOut])
def my_applications(
    session: SessionDep, principal: Principal = require("app_grant", "read")
) -> list[ApplicationOut]:
    """The applications (relying parties) the person let in on the consent screen, with what
    each may learn and do (the cabinet's list of applications with access)."""
    if principal.person_id is None:
        raise Forbidden("this route is for people", type="person-only")
    return [
        ApplicationOut(
            client_id=a.client_id,
            name=a.name,
            scopes=a.scopes,
            scope_texts=_scope_texts(a.scopes),
            granted_at=a.granted_at,
            updated_at=a.updated_at,
            last_token_at=a.last_token_at,
        )
        for a in appgrants.list_for(session, principal.person_id)
    ]


@router.delete("/me/applications/{client_id}", response_model=ApplicationRevoked)
def revoke_application(
    client_id: str, session: SessionDep, principal: Principal = require("app_grant", "revoke")
) -> ApplicationRevoked:
    """Withdraw an application's access: its refresh and access tokens stop working."""
    if principal.person_id is None:
        raise Forbidden("this route is for people", type="person-only")
    families = appgrants.revoke(session, principal.person_id, client_id)
    return ApplicationRevoked(client_id=client_id, token_families_revoked=families)
