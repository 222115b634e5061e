"""Grants and issued tokens of idp.oidc: the stored side of what the token endpoint hands out.

A *grant* is one authorization of a client by a person (a token family: the refresh tokens
and access tokens issued from one code); person tokens are stored by hash (access tokens by
``jti``) so they can be revoked one by one or by family. Client (client_credentials) tokens are
stateless: revoking one puts its ``jti`` on a denylist, and a hot path that cached a verified
client token asks ``refused_client_tokens`` in the transaction that relies on it. Services take
a session and never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from audit.service import record
from idp.oidc import repository as repo
from idp.oidc.clients import CLIENTS
from idp.oidc.models import Grant, IssuedToken
from propusk import caches
from propusk.crypto import token_hash
from propusk.db import utcnow


def create_grant(
    session: Session,
    *,
    client_id: str,
    person_id: uuid.UUID,
    scope: str,
    auth_time: datetime,
    amr: list[str],
    session_hash: str | None,
    acr: str | None = None,
) -> Grant:
    grant = Grant(
        client_id=client_id,
        person_id=person_id,
        scope=scope,
        auth_time=auth_time,
        amr=amr,
        acr=acr,
        session_hash=session_hash,
        created_at=utcnow(),
    )
    repo.add(session, grant)
    return grant


def record_token(
    session: Session,
    *,
    kind: str,
    secret: str,
    grant_id: uuid.UUID,
    client_id: str,
    scope: str,
    ttl: int,
) -> IssuedToken:
    """Store a token by hash: access tokens by ``jti``, refresh tokens by value."""
    now = utcnow()
    row = IssuedToken(
        token_hash=token_hash(secret),
        kind=kind,
        grant_id=grant_id,
        client_id=client_id,
        scope=scope,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl),
    )
    repo.add(session, row)
    return row


def revoke_grant(session: Session, grant_id: uuid.UUID, reason: str, *, actor: str) -> None:
    """Revoke a grant and every token issued from it."""
    repo.revoke_grant(session, grant_id, utcnow(), reason)
    record(session, "token.revoked", actor=actor, body={"grant": str(grant_id), "reason": reason})


def user_token_active(session: Session, jti: str) -> bool:
    """A person's access token is active while its row and its grant are not revoked."""
    return repo.access_token_active(session, token_hash(jti), utcnow())


def client_token_active(session: Session, jti: str) -> bool:
    return not repo.jti_revoked(session, token_hash(jti))


@dataclass(frozen=True, slots=True)
class ClientToken:
    """What a verified client access token was accepted as, to be checked again in the
    transaction that relies on it (verification results are cached for a few seconds)."""

    jti: str
    client_id: str
    role: str | None
    organization_id: uuid.UUID | None


TOKEN_REVOKED, CLIENT_GONE, CLIENT_CHANGED = "token revoked", "client deleted", "client changed"


def refused_client_tokens(
    session: Session, tokens: Sequence[ClientToken]
) -> dict[ClientToken, str]:
    """Token → why it no longer speaks for its client: revoked, its client deleted, or the
    client's role or organisation changed since the token was verified — by any process, as the
    rows are read in the caller's transaction. One query for a batch; each token is judged
    against what *it* was verified as (one jti may sit in a batch verified before and after a
    change). A client found deleted or changed is announced to this process's caches."""
    wanted = {(t.jti, token_hash(t.jti), t.client_id) for t in tokens}
    standing = repo.client_token_standing(session, sorted(wanted))
    refused: dict[ClientToken, str] = {}
    for token in tokens:
        present, role, org_id, revoked = standing[(token.jti, token.client_id)]
        if revoked:
            refused[token] = TOKEN_REVOKED
        elif not present:
            refused[token] = CLIENT_GONE
        elif (role, org_id) != (token.role, token.organization_id):
            refused[token] = CLIENT_CHANGED
    for client_id in {t.client_id for t, why in refused.items() if why != TOKEN_REVOKED}:
        caches.invalidate(CLIENTS.name, client_id)  # changed by another process: re-read it
    return refused


def deny_jti(session: Session, jti: str, expires_at: datetime) -> None:
    repo.add_revoked_jti(session, token_hash(jti), expires_at)


def purge_expired(session: Session) -> dict[str, int]:
    """Delete expired transactions, sessions, codes (a day after expiry), tokens, denylist and
    assertion rows; grants stay (they are the record of an authorization)."""
    return repo.purge_expired(session, utcnow(), timedelta(days=1))
