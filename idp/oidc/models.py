"""SQLAlchemy models of idp.oidc: clients, signing keys, codes, grants, tokens, login sessions.

Every bearer secret (code, refresh token, session id, login transaction id, access token
``jti``) is stored only as its SHA-256 (``propusk.crypto.token_hash``): a database dump yields
nothing presentable.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from propusk.db import Base, UTCDateTime, new_id, utcnow


class OAuthClient(Base):
    """A registered relying party or operator/supplier system."""

    __tablename__ = "oidc_client"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    auth_method: Mapped[str] = mapped_column(String(32))
    id_token_alg: Mapped[str] = mapped_column(String(8), default="ES256")
    grant_types: Mapped[list] = mapped_column(JSON, default=list)
    redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    jwks: Mapped[dict | None] = mapped_column(JSON)
    jwks_uri: Mapped[str | None] = mapped_column(String(500))
    role: Mapped[str | None] = mapped_column(String(16))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # Propusk's own applications: the person is not asked on the consent screen.
    first_party: Mapped[bool] = mapped_column(default=False)
    # Where Propusk's signing page may send the person back after a consent decision.
    return_uris: Mapped[list] = mapped_column(JSON, default=list)
    # Clients whose access tokens this one may introspect (it is their resource server).
    resource_server_for: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SigningKey(Base):
    """A service signing key; the private PEM is AES-GCM encrypted under the KEK."""

    __tablename__ = "oidc_signing_key"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(8))
    private_enc: Mapped[bytes] = mapped_column(LargeBinary)
    public_jwk: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginSession(Base):
    """A browser login at Propusk (cookie holds the random id; we keep its hash)."""

    __tablename__ = "oidc_login_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    amr: Mapped[list] = mapped_column(JSON, default=list)
    upstream: Mapped[str] = mapped_column(String(16))
    acr: Mapped[str | None] = mapped_column(String(64))
    confirmed: Mapped[bool] = mapped_column(default=False)  # ESIA account confirmed at login
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginTransaction(Base):
    """A pending authorization request parked while the user logs in upstream."""

    __tablename__ = "oidc_login_txn"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    params: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Grant(Base):
    """One authorization (person × client): the family of all tokens issued from one code."""

    __tablename__ = "oidc_grant"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_client.client_id"), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    scope: Mapped[str] = mapped_column(Text)
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    amr: Mapped[list] = mapped_column(JSON, default=list)
    acr: Mapped[str | None] = mapped_column(String(64))
    session_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class AppGrant(Base):
    """What a person allowed a relying party on the consent screen: person × client → scopes.

    Remembered so the screen is not shown again for the same scopes; listed in the cabinet
    («Приложения с доступом»), where revoking it also revokes every token family (``Grant``) of
    that person and client. One row per person and client; a new screen adds its scopes."""

    __tablename__ = "oidc_app_grant"
    __table_args__ = (UniqueConstraint("person_id", "client_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_client.client_id"), index=True)
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuthorizationCode(Base):
    """A single-use code (60 s). ``grant_id`` is set at first use, for reuse revocation."""

    __tablename__ = "oidc_auth_code"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_client.client_id"), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    redirect_uri: Mapped[str] = mapped_column(String(1000))
    scope: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(String(500))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    amr: Mapped[list] = mapped_column(JSON, default=list)
    acr: Mapped[str | None] = mapped_column(String(64))
    session_hash: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    grant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class IssuedToken(Base):
    """A user access token (by ``jti`` hash) or refresh token (by value hash) of a grant."""

    __tablename__ = "oidc_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # "access" | "refresh"
    grant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("oidc_grant.id"), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RevokedJti(Base):
    """Denylist for revoked stateless (client_credentials) access tokens, until they expire."""

    __tablename__ = "oidc_revoked_jti"

    jti_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UsedAssertion(Base):
    """``jti`` of accepted private_key_jwt client assertions: a replay is refused."""

    __tablename__ = "oidc_used_assertion"

    jti_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
