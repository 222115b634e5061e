"""Remembered consent-screen grants: what a person allowed each relying party to learn and do.

The authorization endpoint shows the consent screen unless the person already granted this
client every scope it now asks for (or the client is one of Propusk's own, ``first_party``).
Allowing remembers the scopes (added to what was granted before); the cabinet lists the grants
(«Приложения с доступом») and revoking one also revokes every token family the client holds for
the person — its refresh tokens stop working at once, its access tokens at their next use.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from audit.service import record
from idp.oidc import repository as repo
from idp.oidc.clients import plausible_id
from idp.oidc.models import AppGrant
from propusk.db import utcnow
from propusk.errors import NotFound


def granted(session: Session, person_id: uuid.UUID, client_id: str) -> frozenset[str]:
    """The scopes the person granted the client and has not revoked."""
    row = repo.get_app_grant(session, person_id, client_id)
    if row is None or row.revoked_at is not None:
        return frozenset()
    return frozenset(row.scopes or ())


def covers(session: Session, person_id: uuid.UUID, client_id: str, scope: str) -> bool:
    """Whether every scope of ``scope`` (space-separated) was granted before; an empty scope
    is covered by nothing (it never passes for a grant)."""
    wanted = set(scope.split())
    return bool(wanted) and wanted <= granted(session, person_id, client_id)


def remember(
    session: Session, person_id: uuid.UUID, client_id: str, scope: str, *, now: datetime
) -> AppGrant:
    """Record that the person allowed ``scope`` on the consent screen (added to the grant)."""
    wanted = list(dict.fromkeys(scope.split()))
    row = repo.get_app_grant(session, person_id, client_id)
    if row is None:
        row = AppGrant(person_id=person_id, client_id=client_id, scopes=wanted, created_at=now)
        repo.add(session, row)
    else:
        kept = [] if row.revoked_at is not None else list(row.scopes or ())
        row.scopes = list(dict.fromkeys(kept + wanted))
        row.revoked_at = None
    row.updated_at = now
    session.flush()
    record(
        session,
        "app.granted",
        actor=f"person:{person_id}",
        subject=f"person:{person_id}",
        body={"client_id": client_id, "scopes": wanted},
    )
    return row


@dataclass(frozen=True)
class AppAccess:
    """One application with access, as the cabinet lists it."""

    client_id: str
    name: str
    scopes: list[str]
    granted_at: datetime
    updated_at: datetime
    last_token_at: datetime | None


def list_for(session: Session, person_id: uuid.UUID) -> list[AppAccess]:
    return [
        AppAccess(
            client_id=client.client_id,
            name=client.name,
            scopes=list(grant.scopes or ()),
            granted_at=grant.created_at,
            updated_at=grant.updated_at,
            last_token_at=last_token_at,
        )
        for grant, client, last_token_at in repo.app_grants_of(session, person_id)
    ]


def revoke(session: Session, person_id: uuid.UUID, client_id: str) -> int:
    """Withdraw the application's access: the grant and every token family it holds for the
    person (refresh tokens included). Returns how many token families were revoked."""
    row = repo.get_app_grant(session, person_id, client_id) if plausible_id(client_id) else None
    if row is None or row.revoked_at is not None:
        raise NotFound("no such application with access", type="unknown-application")
    now = utcnow()
    row.revoked_at = now
    repo.spend_codes_of(session, person_id, client_id, now)
    families = repo.revoke_grants_of(session, person_id, client_id, now, "person_revoked")
    session.flush()
    record(
        session,
        "app.revoked",
        actor=f"person:{person_id}",
        subject=f"person:{person_id}",
        body={"client_id": client_id, "token_families": families},
    )
    return families
