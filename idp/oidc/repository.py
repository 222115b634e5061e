"""Queries of idp.oidc (the only module that builds them)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, false, func, select, text, update
from sqlalchemy.orm import Session

from idp.oidc.models import (
    AppGrant,
    AuthorizationCode,
    Grant,
    IssuedToken,
    LoginSession,
    LoginTransaction,
    OAuthClient,
    RevokedJti,
    SigningKey,
    UsedAssertion,
)
from propusk.db import is_postgres


def add(session: Session, row) -> None:
    session.add(row)
    session.flush()


# keys
# pg_advisory_xact_lock key of key provisioning: b"propkeys" as a signed 64-bit integer.
KEYS_LOCK = int.from_bytes(b"propkeys", "big", signed=True)


def lock_keys(session: Session) -> None:
    """Serialise key provisioning until the end of the caller's transaction (two processes
    starting at once). PostgreSQL: a transaction-scoped advisory lock. SQLite: a no-op write to
    the key table takes the database write lock, so the read that follows is not stale."""
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": KEYS_LOCK})
    else:
        session.execute(update(SigningKey).where(false()).values(kid=SigningKey.kid))


def active_keys(session: Session) -> list[SigningKey]:
    stmt = select(SigningKey).where(SigningKey.retired_at.is_(None)).order_by(SigningKey.created_at)
    return list(session.scalars(stmt))


def all_keys(session: Session) -> list[SigningKey]:
    return list(session.scalars(select(SigningKey).order_by(SigningKey.created_at)))


def get_key(session: Session, kid: str) -> SigningKey | None:
    return session.get(SigningKey, kid)


# clients
def get_client(session: Session, client_id: str) -> OAuthClient | None:
    return session.get(OAuthClient, client_id)


def list_clients(session: Session) -> list[OAuthClient]:
    return list(session.scalars(select(OAuthClient).order_by(OAuthClient.created_at)))


def delete_client(session: Session, client_id: str) -> bool:
    """Delete a client with its codes, grants and their tokens."""
    grant_ids = select(Grant.id).where(Grant.client_id == client_id)
    session.execute(delete(IssuedToken).where(IssuedToken.grant_id.in_(grant_ids)))
    session.execute(delete(Grant).where(Grant.client_id == client_id))
    session.execute(delete(AppGrant).where(AppGrant.client_id == client_id))
    session.execute(delete(AuthorizationCode).where(AuthorizationCode.client_id == client_id))
    result = session.execute(delete(OAuthClient).where(OAuthClient.client_id == client_id))
    return result.rowcount > 0


# login
def get_login_session(session: Session, id_hash: str) -> LoginSession | None:
    return session.get(LoginSession, id_hash)


def get_txn(session: Session, id_hash: str, *, for_update: bool = False) -> LoginTransaction | None:
    stmt = select(LoginTransaction).where(LoginTransaction.id_hash == id_hash)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


# codes
def get_code(session: Session, code_hash: str, *, for_update: bool = False):
    stmt = select(AuthorizationCode).where(AuthorizationCode.code_hash == code_hash)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def claim_code(session: Session, code_hash: str, now: datetime) -> bool:
    """Atomically mark a code used; False if another request used it first."""
    result = session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.code_hash == code_hash, AuthorizationCode.used_at.is_(None))
        .values(used_at=now)
    )
    return result.rowcount == 1


# grants and tokens
def get_grant(session: Session, grant_id: uuid.UUID) -> Grant | None:
    return session.get(Grant, grant_id)


def get_token(session: Session, token_hash: str) -> IssuedToken | None:
    return session.get(IssuedToken, token_hash)


def access_token_active(session: Session, jti_hash: str, now: datetime) -> bool:
    """One round trip: the access token row and its grant, neither revoked, not expired."""
    stmt = (
        select(IssuedToken.token_hash)
        .join(Grant, Grant.id == IssuedToken.grant_id)
        .where(
            IssuedToken.token_hash == jti_hash,
            IssuedToken.kind == "access",
            IssuedToken.revoked_at.is_(None),
            IssuedToken.expires_at > now,
            Grant.revoked_at.is_(None),
        )
    )
    return session.scalar(stmt) is not None


def claim_refresh(session: Session, token_hash: str, now: datetime) -> bool:
    """Atomically mark a refresh token used (rotation); False if it was used already."""
    result = session.execute(
        update(IssuedToken)
        .where(IssuedToken.token_hash == token_hash, IssuedToken.used_at.is_(None))
        .values(used_at=now)
    )
    return result.rowcount == 1


def revoke_grant(session: Session, grant_id: uuid.UUID, now: datetime, reason: str) -> None:
    session.execute(
        update(Grant)
        .where(Grant.id == grant_id, Grant.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    session.execute(
        update(IssuedToken)
        .where(IssuedToken.grant_id == grant_id, IssuedToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_token(session: Session, token_hash: str, now: datetime) -> None:
    session.execute(
        update(IssuedToken)
        .where(IssuedToken.token_hash == token_hash, IssuedToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def jti_revoked(session: Session, jti_hash: str) -> bool:
    return session.get(RevokedJti, jti_hash) is not None


# Core text on the gated pull's hot path (once per batch); ``= ANY`` binds one array.
_REVOKED_AMONG = text(
    "SELECT jti_hash FROM oidc_revoked_jti WHERE jti_hash = ANY(CAST(:h AS text[]))"
)


def revoked_jti_hashes(session: Session, jti_hashes: list[str]) -> set[str]:
    """The hashes among ``jti_hashes`` on the denylist (one query for a batch)."""
    if not jti_hashes:
        return set()
    if is_postgres(session):
        # hex digests: a text array literal needs no quoting (and is cheaper to send than a
        # list the driver dumps element by element)
        literal = "{" + ",".join(jti_hashes) + "}"
        return set(session.scalars(_REVOKED_AMONG, {"h": literal}))
    stmt = select(RevokedJti.jti_hash).where(RevokedJti.jti_hash.in_(jti_hashes))
    return set(session.scalars(stmt))


_CLIENT_STANDING = text(
    "SELECT t.jti, t.cid, c.client_id IS NOT NULL AS present, c.role, c.organization_id, "
    "EXISTS (SELECT 1 FROM oidc_revoked_jti r WHERE r.jti_hash = t.h) AS revoked "
    "FROM unnest(CAST(:j AS text[]), CAST(:h AS text[]), CAST(:c AS text[])) AS t(jti, h, cid) "
    "LEFT JOIN oidc_client c ON c.client_id = t.cid"
)


def client_token_standing(
    session: Session, tokens: Sequence[tuple[str, str, str]]
) -> dict[tuple[str, str], tuple[bool, str | None, Any, bool]]:
    """For distinct (jti, jti hash, client id) triples: (jti, client id) → (client present, its
    role, its organisation, jti on the denylist), in one query for a batch."""
    if not tokens:
        return {}
    if is_postgres(session):
        jtis, hashes, client_ids = (list(column) for column in zip(*tokens, strict=True))
        params = {"j": jtis, "h": hashes, "c": client_ids}
        rows = session.execute(_CLIENT_STANDING, params)
        return {(r.jti, r.cid): (r.present, r.role, r.organization_id, r.revoked) for r in rows}
    revoked = revoked_jti_hashes(session, [t[1] for t in tokens])
    ids = list({t[2] for t in tokens})
    rows = session.execute(
        select(OAuthClient.client_id, OAuthClient.role, OAuthClient.organization_id).where(
            OAuthClient.client_id.in_(ids)
        )
    )
    clients = {r.client_id: r for r in rows}
    out = {}
    for jti, h, cid in tokens:
        c = clients.get(cid)
        role, org_id = (c.role, c.organization_id) if c else (None, None)
        out[(jti, cid)] = (c is not None, role, org_id, h in revoked)
    return out


def add_revoked_jti(session: Session, jti_hash: str, expires_at: datetime) -> None:
    if session.get(RevokedJti, jti_hash) is None:
        add(session, RevokedJti(jti_hash=jti_hash, expires_at=expires_at))


def assertion_seen(session: Session, jti_hash: str) -> bool:
    return session.get(UsedAssertion, jti_hash) is not None


def purge_expired(session: Session, now: datetime, code_grace: timedelta) -> dict[str, int]:
    """Housekeeping: rows that can no longer matter. Used codes are kept ``code_grace`` past
    their expiry so that a late replay still revokes its grant."""
    counts = {}
    for name, stmt in (
        ("revoked_jti", delete(RevokedJti).where(RevokedJti.expires_at < now)),
        ("used_assertion", delete(UsedAssertion).where(UsedAssertion.expires_at < now)),
        ("login_txn", delete(LoginTransaction).where(LoginTransaction.expires_at < now)),
        ("login_session", delete(LoginSession).where(LoginSession.expires_at < now)),
        (
            "auth_code",
            delete(AuthorizationCode).where(AuthorizationCode.expires_at < now - code_grace),
        ),
        ("token", delete(IssuedToken).where(IssuedToken.expires_at < now)),
    ):
        counts[name] = session.execute(stmt).rowcount
    return counts


# remembered consent-screen grants (person × client)
def get_app_grant(session: Session, person_id: uuid.UUID, client_id: str) -> AppGrant | None:
    stmt = select(AppGrant).where(AppGrant.person_id == person_id, AppGrant.client_id == client_id)
    return session.scalar(stmt)


def app_grants_of(
    session: Session, person_id: uuid.UUID
) -> list[tuple[AppGrant, OAuthClient, datetime | None]]:
    """The person's active grants with their client and the client's last token for them."""
    last_token = (
        select(func.max(IssuedToken.created_at))
        .join(Grant, Grant.id == IssuedToken.grant_id)
        .where(Grant.person_id == AppGrant.person_id, Grant.client_id == AppGrant.client_id)
        .scalar_subquery()
    )
    stmt = (
        select(AppGrant, OAuthClient, last_token)
        .join(OAuthClient, OAuthClient.client_id == AppGrant.client_id)
        .where(AppGrant.person_id == person_id, AppGrant.revoked_at.is_(None))
        .order_by(AppGrant.updated_at.desc())
    )
    return [(g, c, last) for g, c, last in session.execute(stmt).all()]


def revoke_grants_of(
    session: Session, person_id: uuid.UUID, client_id: str, now: datetime, reason: str
) -> int:
    """Revoke every token family of one person and client, with their tokens."""
    families = select(Grant.id).where(
        Grant.person_id == person_id, Grant.client_id == client_id, Grant.revoked_at.is_(None)
    )
    session.execute(
        update(IssuedToken)
        .where(IssuedToken.grant_id.in_(families), IssuedToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    result = session.execute(
        update(Grant)
        .where(
            Grant.person_id == person_id,
            Grant.client_id == client_id,
            Grant.revoked_at.is_(None),
        )
        .values(revoked_at=now, revoked_reason=reason)
    )
    return result.rowcount


def clients_of_organizations(
    session: Session, organization_ids: Iterable[uuid.UUID]
) -> list[OAuthClient]:
    stmt = (
        select(OAuthClient)
        .where(OAuthClient.organization_id.in_(list(organization_ids)))
        .order_by(OAuthClient.created_at, OAuthClient.client_id)
    )
    return list(session.scalars(stmt))


def spend_codes_of(session: Session, person_id: uuid.UUID, client_id: str, now: datetime) -> int:
    """Mark the person's unused codes for the client used (an application's access revoked:
    a code issued a moment before must not turn into tokens)."""
    result = session.execute(
        update(AuthorizationCode)
        .where(
            AuthorizationCode.person_id == person_id,
            AuthorizationCode.client_id == client_id,
            AuthorizationCode.used_at.is_(None),
        )
        .values(used_at=now)
    )
    return result.rowcount
