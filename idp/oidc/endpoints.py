"""Authlib endpoints of the token family: introspection (RFC 7662) and revocation (RFC 7009).

Both look a token up the same way (``find_token``): a compact JWS is tried as one of our access
tokens — accepted only as ``principal.verify_access_token`` accepts it, the resolver's own
validation — anything else as a refresh token by hash. Only confidential clients may call them
(``CONFIDENTIAL_AUTH_METHODS``). A client may introspect its own tokens and those of the
clients it is a resource server for; it may revoke only its own (another's token is ignored
with a 200, as RFC 7009 §2.2 asks).
"""

from __future__ import annotations

import time
from datetime import timedelta

from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from sqlalchemy.orm import Session

from audit.service import record
from idp.oidc import repository as repo
from idp.oidc.clients import CONFIDENTIAL_AUTH_METHODS
from idp.oidc.principal import InvalidToken, verify_access_token
from idp.oidc.token_store import deny_jti, revoke_grant
from propusk.crypto import token_hash
from propusk.db import utcnow
from propusk.settings import Settings

ACCESS_CLAIMS = ("scope", "client_id", "sub", "aud", "iss", "exp", "iat", "jti")


class TokenRecord(dict):
    """What introspection/revocation found: the claims to answer with, plus how to revoke it
    (``claims`` of an access token, ``row`` of a refresh token)."""

    def __init__(self, data: dict, *, kind: str, client_id: str, active: bool) -> None:
        super().__init__(data)
        self.kind = kind
        self.client_id = client_id
        self.active = active
        self.claims: dict = {}
        self.row = None

    def check_client(self, client) -> bool:
        return client.get_client_id() == self.client_id

    def is_expired(self) -> bool:
        return not self.active

    def is_revoked(self) -> bool:
        return not self.active


def lookup_access_token(
    session: Session, settings: Settings, token: str, clients=None
) -> TokenRecord | None:
    """An access token that ``principal.verify_access_token`` accepts (signature, type, issuer,
    audience, expiry, revocation, client still registered), else None — introspection then
    answers ``{"active": false}``."""
    try:
        claims = verify_access_token(session, settings, token, clients)
    except InvalidToken:
        return None
    client_id = claims.get("client_id")
    if not isinstance(client_id, str):
        return None
    data = {k: claims[k] for k in ACCESS_CLAIMS if k in claims}
    data["token_type"] = "Bearer"
    found = TokenRecord(data, kind="access", client_id=client_id, active=True)
    found.claims = claims
    return found


def lookup_refresh_token(session: Session, token: str) -> TokenRecord | None:
    """A refresh token of ours by value (active or not), else None."""
    row = repo.get_token(session, token_hash(token))
    if row is None or row.kind != "refresh":
        return None
    grant = repo.get_grant(session, row.grant_id)
    active = (
        grant is not None
        and grant.revoked_at is None
        and row.revoked_at is None
        and row.used_at is None
        and row.expires_at > utcnow()
    )
    data = {
        "scope": row.scope,
        "client_id": row.client_id,
        "sub": str(grant.person_id) if grant else None,
        "exp": int(row.expires_at.timestamp()),
        "iat": int(row.created_at.timestamp()),
        "token_type": "refresh_token",
    }
    found = TokenRecord(data, kind="refresh", client_id=row.client_id, active=active)
    found.row = row
    return found


def find_token(server, token: str) -> TokenRecord | None:
    """The token as introspection and revocation see it (``server``: the request's
    authorization server, for its session, settings and client cache)."""
    if token.count(".") == 2:
        found = lookup_access_token(server.session, server.settings, token, server.clients)
        if found is not None:
            return found
    return lookup_refresh_token(server.session, token)


def revoke(session: Session, token: TokenRecord) -> None:
    """Refresh token → the whole grant; access token → that token (or its ``jti``)."""
    actor = f"client:{token.client_id}"
    if token.kind == "refresh":
        revoke_grant(session, token.row.grant_id, "revoked", actor=actor)
        return
    claims = token.claims
    if claims.get("sub") == token.client_id:
        exp = claims.get("exp") if isinstance(claims.get("exp"), int) else time.time()
        deny_jti(
            session,
            claims["jti"],
            utcnow() + timedelta(seconds=max(0, int(exp - time.time())) + 60),
        )
    else:
        repo.revoke_token(session, token_hash(claims["jti"]), utcnow())
    record(session, "token.revoked", actor=actor, body={"kind": "access_token"})


class TokenLookupMixin:
    SUPPORTED_TOKEN_TYPES = ("access_token", "refresh_token")
    CLIENT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None):
        return find_token(self.server, token_string)


class Introspection(TokenLookupMixin, IntrospectionEndpoint):
    def check_permission(self, token: TokenRecord, client, request) -> bool:
        """A client may introspect its own tokens and those of the clients it is registered as
        resource server for; any other token is ``{"active": false}`` (RFC 7662 §2.2)."""
        return token.check_client(client) or token.client_id in client.resource_server_for

    def introspect_token(self, token: TokenRecord) -> dict:
        return dict(token, active=True)


class Revocation(TokenLookupMixin, RevocationEndpoint):
    def authenticate_token(self, request, client):
        """RFC 7009 §2.2: a token of another client is ignored, the answer is still 200."""
        self.check_params(request, client)
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        if token is not None and not token.check_client(client):
            return None
        return token

    def revoke_token(self, token: TokenRecord, request) -> None:
        revoke(self.server.session, token)
