"""The principal resolver: who is calling, from a bearer access token or the login cookie.

Installed as ``app.state.principal_resolver``. A bad, expired or revoked bearer token is a
401 problem+json with ``WWW-Authenticate``; no credentials at all is the anonymous principal
(the policy dependency then decides). A person's token is a *delegated* principal (channel
``token``: a relying party acting within the scopes the person granted it); the login cookie is
the person in Propusk's own pages (channel ``session``), and a cookie-authenticated state change
must pass the CSRF check (``idp.oidc.csrf``) first.

``verify_access_token`` is the one validation of access tokens: the resolver, introspection,
userinfo and the hot-path caches (``ClientBearers``) all call it.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.orm import Session

from idp.oidc import csrf, keys
from idp.oidc.clients import CLIENTS, ClientInfo, get_client
from idp.oidc.logins import active_login_session, auth_context
from idp.oidc.token_store import ClientToken, client_token_active, user_token_active
from idp.oidc.tokens import ACCESS_TOKEN_TYP
from idp.statuses import role_grants
from propusk import caches
from propusk.db import session_scope
from propusk.errors import Unauthorized
from propusk.security import ANONYMOUS, AuthContext, Channel, Principal, RoleGrant
from propusk.settings import Settings

SESSION_COOKIE = "propusk_session"


class InvalidToken(Exception):
    """The bearer token cannot be accepted; ``str(exc)`` is safe to show."""


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def verify_access_token(session: Session, settings: Settings, token: str, clients=None) -> dict:
    """Signature with our keys, ``typ``, ``iss``, ``aud``, ``exp``, then revocation."""
    try:
        header, claims = keys.verify_jws(session, settings, token)
    except keys.InvalidJWS as exc:
        raise InvalidToken("token signature or format is invalid") from exc
    if header.get("typ") != ACCESS_TOKEN_TYP:
        raise InvalidToken("not an access token")
    if claims.get("iss") != settings.issuer:
        raise InvalidToken("wrong issuer")
    aud = claims.get("aud")
    if settings.issuer not in (aud if isinstance(aud, list) else [aud]):
        raise InvalidToken("wrong audience")
    exp, jti, sub = claims.get("exp"), claims.get("jti"), claims.get("sub")
    if not isinstance(exp, int | float) or exp <= time.time():
        raise InvalidToken("token expired")
    if not isinstance(jti, str) or not isinstance(sub, str):
        raise InvalidToken("token lacks jti or sub")
    if sub == claims.get("client_id"):
        if not client_token_active(session, jti):
            raise InvalidToken("token revoked")
        client = clients.get(session, sub) if clients else get_client(session, sub)
        if client is None:
            raise InvalidToken("client no longer exists")
    elif not user_token_active(session, jti):
        raise InvalidToken("token revoked")
    return claims


def person_principal(
    session: Session,
    person_id: uuid.UUID,
    scopes=frozenset(),
    *,
    channel: Channel = "token",
    auth: AuthContext | None = None,
) -> Principal:
    """A person acting through a relying party's token (``channel="token"``: held to its
    scopes by ``policies.delegation``) or in Propusk's own pages (``"session"``)."""
    roles = tuple(RoleGrant(role, domain) for role, domain in role_grants(session, person_id))
    return Principal(
        kind="person",
        subject=f"person:{person_id}",
        person_id=person_id,
        scopes=frozenset(scopes),
        roles=roles,
        channel=channel,
        auth=auth,
    )


def client_principal(client: ClientInfo, scopes=frozenset()) -> Principal:
    roles: tuple[RoleGrant, ...] = ()
    if client.role and client.organization_id:
        roles = (RoleGrant(client.role, f"org:{client.organization_id}"),)
    return Principal(
        kind="client",
        subject=f"client:{client.client_id}",
        client_id=client.client_id,
        organization_id=client.organization_id,
        scopes=frozenset(scopes),
        roles=roles,
        channel="client",
    )


def unauthorized(reason: str) -> Unauthorized:
    return Unauthorized(
        reason,
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{reason}"'},
    )


def _scopes(claims: dict) -> frozenset[str]:
    return frozenset(str(claims.get("scope", "")).split())


def _client_of(session: Session, claims: dict, clients=None) -> ClientInfo | None:
    """The client a verified client token speaks for (cached when a cache is given)."""
    client = clients.get(session, claims["sub"]) if clients else None
    return client or get_client(session, claims["sub"])


def resolve(request: Request, session: Session) -> Principal:
    settings: Settings = request.app.state.settings
    oidc = getattr(request.app.state, "oidc", None)
    clients = oidc.fast.clients if oidc else None
    token = bearer_token(request)
    if token is not None:
        try:
            claims = verify_access_token(session, settings, token, clients)
        except InvalidToken as exc:
            raise unauthorized(str(exc)) from exc
        scopes = _scopes(claims)
        if claims["sub"] == claims.get("client_id"):
            return client_principal(_client_of(session, claims, clients), scopes)
        try:
            person_id = uuid.UUID(claims["sub"])
        except ValueError as exc:
            raise unauthorized("malformed subject") from exc
        return person_principal(session, person_id, scopes)
    return session_principal(request, session, settings, request.headers.get(csrf.HEADER))


def session_principal(
    request: Request, session: Session, settings: Settings, csrf_token: str | None
) -> Principal:
    """The person of the login cookie in Propusk's own pages (channel ``session``), or
    anonymous. A state change (unsafe method) must carry the session's CSRF token — the
    ``X-CSRF-Token`` header of scripts or the ``csrf_token`` field of an HTML form, which the
    form's route passes here — from Propusk's own origin (``idp.oidc.csrf``)."""
    login = active_login_session(session, request.cookies.get(SESSION_COOKIE))
    if login is None:
        return ANONYMOUS
    if request.method not in csrf.SAFE_METHODS:  # the cookie is ambient authority
        csrf.verify(request, settings, login, csrf_token)
    return person_principal(session, login.person_id, channel="session", auth=auth_context(login))


@dataclass(frozen=True)
class ClientBearer:
    """A verified client access token: who it speaks for, and what it was accepted as (checked
    again with ``token_store.refused_client_tokens`` in the transaction that relies on it)."""

    principal: Principal
    token: ClientToken
    until: float  # monotonic deadline of this verification
    key_generation: int  # keys.generation() when verified: a local rotation/retirement re-verifies

    @property
    def jti(self) -> str:
        return self.token.jti


class ClientBearers:
    """Verified client (``client_credentials``) access tokens, for hot paths such as the gated
    pull lane (``consent.fastpath``).

    Signature, claims and key retirement are re-verified after ``TTL`` seconds (the key cache's
    own window); the revocation denylist and the client's row are *not* cached here: the caller
    checks them in the transaction that uses the token (``token_store.refused_client_tokens``), so a
    revoked token, a deleted client or a client bound elsewhere is refused on the next use, even
    when another process made the change.
    Person tokens and invalid tokens are never cached: the ordinary resolver handles them.
    """

    TTL = 5.0
    MAX_ENTRIES = 10_000

    def __init__(self, sessionmaker, settings: Settings, clients) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.clients = clients
        self._entries: dict[str, ClientBearer] = {}
        caches.join(CLIENTS.name, self.invalidate)  # a client changed here: re-verify at once

    def invalidate(self, client_id: str | None) -> None:
        for token, entry in list(self._entries.items()):
            if client_id is None or entry.principal.client_id == client_id:
                self._entries.pop(token, None)

    def peek(self, token: str) -> ClientBearer | None:
        hit = self._entries.get(token)
        if hit is None or hit.until <= time.monotonic() or hit.key_generation != keys.generation():
            return None
        return hit

    def load(self, token: str) -> ClientBearer | None:
        """Blocking: verify ``token`` as a client access token (threadpool or sync code only)."""
        generation = keys.generation()  # read first: a rotation meanwhile re-verifies
        with session_scope(self.sessionmaker) as session:
            try:
                claims = verify_access_token(session, self.settings, token, self.clients)
            except InvalidToken:
                return None
            if claims["sub"] != claims.get("client_id"):
                return None
            # the row as it is now, not the client cache's copy: after a refusal for a changed
            # client (``token_store.refused_client_tokens``) the token is verified afresh here
            client = get_client(session, claims["sub"])
        if client is None:
            return None
        scopes = _scopes(claims)
        ttl = min(self.TTL, float(claims["exp"]) - time.time())
        standing = ClientToken(claims["jti"], client.client_id, client.role, client.organization_id)
        entry = ClientBearer(
            client_principal(client, scopes), standing, time.monotonic() + ttl, generation
        )
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()  # simple bound: a burst of distinct tokens re-verifies
        self._entries[token] = entry
        return entry


def client_bearers(app) -> ClientBearers | None:
    """The app's verified-client-token cache, only while this module's resolver is the one
    installed (a test or tool that installs its own resolver gets no shortcut around it)."""
    oidc = getattr(app.state, "oidc", None)
    if oidc is None or getattr(app.state, "principal_resolver", None) is not resolve:
        return None
    return oidc.bearers
