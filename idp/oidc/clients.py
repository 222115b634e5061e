"""The client registry of idp.oidc: registering, describing, binding and deleting OAuth clients.

A client is a relying party (authorization code), an operator or supplier system
(client_credentials, bound to its organisation) or one of Propusk's own applications
(``first_party``). ``ClientInfo`` is the immutable snapshot Authlib, the token lane and the
principal resolver work with; caches of it join the registry's ``oidc.clients`` and are told
when a client changes in this process, after the change commits (``announce_change``).
Services take a session and never commit; client secrets are random (256 bits), shown once
and stored as SHA-256.
"""

from __future__ import annotations

import hmac
import json
import secrets
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from audit.service import record
from idp.oidc import repository as repo
from idp.oidc.models import OAuthClient
from policies.service import set_subject_roles
from propusk import caches
from propusk.crypto import token_hash
from propusk.db import utcnow
from propusk.errors import Conflict, NotFound, ValidationProblem

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
SECRET_METHODS = ("client_secret_basic", "client_secret_post")
AUTH_METHODS = (*SECRET_METHODS, "private_key_jwt", "none")
CONFIDENTIAL_AUTH_METHODS = (*SECRET_METHODS, "private_key_jwt")
CLIENT_ROLES = ("operator", "supplier")
# The scopes a relying party registered without an explicit list may ask for: the OIDC
# claim scopes. Resource scopes of the participant API (``policies.delegation``) must be
# registered for the client explicitly.
USER_SCOPES = ("openid", "profile", "email", "school", "children", "offline_access")
ID_TOKEN_ALGS = ("ES256", "RS256")


@dataclass(frozen=True)
class ClientInfo:
    """An immutable snapshot of a client, safe to cache and share between threads.

    Implements Authlib's ``ClientMixin`` protocol.
    """

    client_id: str
    name: str
    secret_hash: str | None
    auth_method: str
    id_token_alg: str
    grant_types: tuple[str, ...]
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    jwks: dict | None = None
    jwks_uri: str | None = None
    role: str | None = None
    organization_id: uuid.UUID | None = None
    first_party: bool = False
    return_uris: tuple[str, ...] = ()
    resource_server_for: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def of(cls, row: OAuthClient) -> ClientInfo:
        return cls(
            client_id=row.client_id,
            name=row.name,
            secret_hash=row.secret_hash,
            auth_method=row.auth_method,
            id_token_alg=row.id_token_alg,
            grant_types=tuple(row.grant_types or ()),
            redirect_uris=tuple(row.redirect_uris or ()),
            post_logout_redirect_uris=tuple(row.post_logout_redirect_uris or ()),
            scopes=tuple(row.scopes or ()),
            jwks=row.jwks,
            jwks_uri=row.jwks_uri,
            role=row.role,
            organization_id=row.organization_id,
            first_party=bool(row.first_party),
            return_uris=tuple(row.return_uris or ()),
            resource_server_for=tuple(row.resource_server_for or ()),
        )

    # Authlib ClientMixin
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # OIDC: redirect_uri is required in every authorization request

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """All requested scopes must be allowed; no scope means every allowed scope."""
        if not scope:
            return " ".join(self.scopes)
        wanted = scope.split()
        if any(s not in self.scopes for s in wanted):
            return None
        return " ".join(dict.fromkeys(wanted))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris  # exact string match

    def check_client_secret(self, client_secret: str) -> bool:
        if not self.secret_hash or not isinstance(client_secret, str):
            return False
        return hmac.compare_digest(token_hash(client_secret), self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


# -- the client caches (emptied after a change: here at commit, other instances on NOTIFY) ---
CLIENTS = caches.declare(
    caches.CacheSpec(
        "oidc.clients",
        "client_id",
        "10 s (an unknown id 1 s); verified client tokens 5 s",
        "client snapshots of the token lane and of the client-token resolver",
        "a client created, changed, bound or deleted",
    )
)


def announce_change(session: Session, client_id: str) -> None:
    """This process's client caches forget ``client_id`` once the change commits."""
    caches.after_commit(session, CLIENTS.name, client_id)


# -- registration ------------------------------------------------------------------------
def _no_control_chars(value: str, what: str) -> None:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValidationProblem(f"{what} contains control characters")


def _check_uri(uri: str, what: str) -> None:
    _no_control_chars(uri, what)
    try:
        parts = urlsplit(uri)
    except ValueError as exc:
        raise ValidationProblem(f"{what} is not a valid URI: {uri!r}") from exc
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.fragment:
        raise ValidationProblem(f"{what} must be an absolute http(s) URI without fragment: {uri}")


def _validate_client_input(
    grant_types: list[str],
    auth_method: str,
    redirect_uris: list[str],
    post_logout_redirect_uris: list[str],
    jwks: dict | None,
    jwks_uri: str | None,
    role: str | None,
) -> None:
    if not grant_types:
        raise ValidationProblem("at least one grant type is required")
    if jwks is not None and "\\u0000" in json.dumps(jwks):
        raise ValidationProblem("jwks contains NUL characters")
    bad = [g for g in grant_types if g not in GRANT_TYPES]
    if bad:
        raise ValidationProblem(f"unsupported grant types: {', '.join(bad)}")
    if auth_method not in AUTH_METHODS:
        raise ValidationProblem(f"unsupported auth method: {auth_method}")
    if "authorization_code" in grant_types and not redirect_uris:
        raise ValidationProblem("authorization_code needs at least one redirect URI")
    if "refresh_token" in grant_types and "authorization_code" not in grant_types:
        raise ValidationProblem("refresh_token needs authorization_code")
    if auth_method == "none" and "client_credentials" in grant_types:
        raise ValidationProblem("a public client cannot use client_credentials")
    if auth_method == "private_key_jwt" and not (jwks or jwks_uri):
        raise ValidationProblem("private_key_jwt needs --jwks or --jwks-uri")
    if jwks is not None and not (isinstance(jwks, dict) and isinstance(jwks.get("keys"), list)):
        raise ValidationProblem('jwks must be a JWK Set: {"keys": [...]}')
    if role is not None and role not in CLIENT_ROLES:
        raise ValidationProblem(f"role must be one of {', '.join(CLIENT_ROLES)}")
    for uri in redirect_uris:
        _check_uri(uri, "redirect URI")
    for uri in post_logout_redirect_uris:
        _check_uri(uri, "post-logout redirect URI")
    if jwks_uri:
        if len(jwks_uri) > 500:
            raise ValidationProblem("jwks_uri is longer than 500 characters")
        _check_uri(jwks_uri, "jwks_uri")


def create_client(
    session: Session,
    *,
    name: str,
    grant_types: list[str],
    auth_method: str = "client_secret_basic",
    redirect_uris: list[str] | None = None,
    post_logout_redirect_uris: list[str] | None = None,
    scopes: list[str] | None = None,
    jwks: dict | None = None,
    jwks_uri: str | None = None,
    role: str | None = None,
    organization_id: uuid.UUID | None = None,
    id_token_alg: str = "ES256",
    first_party: bool = False,
    return_uris: list[str] | None = None,
    resource_server_for: list[str] | None = None,
    actor: str = "system",
) -> tuple[OAuthClient, str | None]:
    """Register a client; returns (client, secret) — the secret is shown once, stored hashed.

    ``first_party``: one of Propusk's own applications (its users are not asked on the consent
    screen). ``return_uris``: where the signing page may return the person (operators that ask
    for consents). ``resource_server_for``: the clients whose tokens it may introspect."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationProblem("name must be 1..200 characters")
    _no_control_chars(name, "name")
    for scope in scopes or []:
        if not scope or len(scope) > 100 or any(c.isspace() for c in scope):
            raise ValidationProblem(f"invalid scope: {scope!r}")
        _no_control_chars(scope, "scope")
    redirect_uris = list(dict.fromkeys(redirect_uris or []))
    post_logout = list(dict.fromkeys(post_logout_redirect_uris or []))
    return_uris = list(dict.fromkeys(return_uris or []))
    for uri in return_uris:
        _check_uri(uri, "return URI")
    resource_server_for = list(dict.fromkeys(resource_server_for or []))
    if any(not plausible_id(c) for c in resource_server_for):
        raise ValidationProblem("resource_server_for lists an invalid client id")
    grant_types = list(dict.fromkeys(grant_types))
    _validate_client_input(
        grant_types, auth_method, redirect_uris, post_logout, jwks, jwks_uri, role
    )
    if id_token_alg not in ID_TOKEN_ALGS:
        raise ValidationProblem(f"id_token_alg must be one of {', '.join(ID_TOKEN_ALGS)}")
    if scopes is None:
        scopes = list(USER_SCOPES) if "authorization_code" in grant_types else []
    secret = None
    if auth_method in SECRET_METHODS:
        secret = secrets.token_urlsafe(32)
    row = OAuthClient(
        client_id=new_client_id(),
        name=name,
        secret_hash=token_hash(secret) if secret else None,
        auth_method=auth_method,
        id_token_alg=id_token_alg,
        grant_types=grant_types,
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=post_logout,
        scopes=list(dict.fromkeys(scopes)),
        jwks=jwks,
        jwks_uri=jwks_uri,
        role=role,
        organization_id=organization_id,
        first_party=first_party,
        return_uris=return_uris,
        resource_server_for=resource_server_for,
    )
    repo.add(session, row)
    _publish_client_roles(session, row.client_id, role, organization_id)
    record(
        session,
        "client.created",
        actor=actor,
        subject=f"client:{row.client_id}",
        body={"name": name, "grant_types": grant_types, "auth_method": auth_method, "role": role},
    )
    return row, secret


def new_client_id() -> str:
    """128 random bits, URL-safe, starting with a letter or digit (``-`` would read as a CLI
    option; policy subjects start alphanumeric)."""
    while True:
        client_id = secrets.token_urlsafe(16)
        if client_id[0].isalnum():
            return client_id


def plausible_id(value: object, max_len: int = 64) -> bool:
    """Worth a database lookup: a non-empty string of printable characters (PostgreSQL
    refuses NUL in text and would turn the lookup into an error, not a miss)."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= max_len
        and not any(ord(c) < 32 or ord(c) == 127 for c in value)
    )


def get_client(session: Session, client_id: str) -> ClientInfo | None:
    if not plausible_id(client_id):
        return None
    row = repo.get_client(session, client_id)
    return ClientInfo.of(row) if row else None


def client_row(session: Session, client_id: str) -> OAuthClient | None:
    return repo.get_client(session, client_id) if plausible_id(client_id) else None


def list_clients(session: Session) -> list[OAuthClient]:
    return repo.list_clients(session)


def delete_client(session: Session, client_id: str, *, actor: str = "system") -> None:
    if not plausible_id(client_id) or not repo.delete_client(session, client_id):
        raise NotFound("client does not exist")
    _publish_client_roles(session, client_id, None, None)
    record(session, "client.deleted", actor=actor, subject=f"client:{client_id}")
    announce_change(session, client_id)


def rotate_secret(session: Session, client_id: str, *, actor: str = "system") -> str:
    """A new secret for a secret-based client, returned once (stored hashed); the old one stops
    working at once (this process's caches forget the client when the change commits; other
    processes within the client cache's TTL)."""
    row = repo.get_client(session, client_id) if plausible_id(client_id) else None
    if row is None:
        raise NotFound("client does not exist")
    if row.auth_method not in SECRET_METHODS:
        raise Conflict("the client authenticates without a secret", type="client-without-secret")
    secret = secrets.token_urlsafe(32)
    row.secret_hash = token_hash(secret)
    row.updated_at = utcnow()
    session.flush()
    record(session, "client.secret_rotated", actor=actor, subject=f"client:{client_id}")
    announce_change(session, client_id)
    return secret


def bind_client(
    session: Session,
    client_id: str,
    organization_id: uuid.UUID | None,
    role: str | None,
    *,
    actor: str = "system",
) -> OAuthClient:
    """Bind an operator/supplier client to its organisation (called by consent)."""
    if role is not None and role not in CLIENT_ROLES:
        raise ValidationProblem(f"role must be one of {', '.join(CLIENT_ROLES)}")
    row = repo.get_client(session, client_id) if plausible_id(client_id) else None
    if row is None:
        raise NotFound("client does not exist")
    row.organization_id = organization_id
    row.role = role
    row.updated_at = utcnow()
    session.flush()
    _publish_client_roles(session, client_id, role, organization_id)
    record(
        session,
        "client.bound",
        actor=actor,
        subject=f"client:{client_id}",
        body={"organization_id": str(organization_id) if organization_id else None, "role": role},
    )
    announce_change(session, client_id)
    return row


def _publish_client_roles(
    session: Session, client_id: str, role: str | None, organization_id: uuid.UUID | None
) -> None:
    """Store the client's role link too, so ``policy explain client:<id> ...`` sees what its
    tokens carry (enforcement itself uses the grant resolved from the token)."""
    grants = [(role, f"org:{organization_id}")] if role and organization_id else []
    set_subject_roles(session, f"client:{client_id}", grants, actor="system:idp")


def client_json(row: OAuthClient) -> dict:
    """The public description of a client (never the secret hash)."""
    return {
        "client_id": row.client_id,
        "name": row.name,
        "auth_method": row.auth_method,
        "id_token_alg": row.id_token_alg,
        "grant_types": list(row.grant_types),
        "redirect_uris": list(row.redirect_uris),
        "post_logout_redirect_uris": list(row.post_logout_redirect_uris),
        "scopes": list(row.scopes),
        "jwks_uri": row.jwks_uri,
        "role": row.role,
        "organization_id": str(row.organization_id) if row.organization_id else None,
        "first_party": bool(row.first_party),
        "return_uris": list(row.return_uris or []),
        "resource_server_for": list(row.resource_server_for or []),
        "created_at": row.created_at.isoformat(),
    }


def return_uri_allowed(session: Session, organization_id: uuid.UUID, uri: str) -> bool:
    """``uri`` is a registered return URI of a client of the organisation (exact match): where
    Propusk's signing page may send the person back after a consent decision."""
    rows = repo.clients_of_organizations(session, [organization_id])
    return any(uri in (row.return_uris or ()) for row in rows)


def first_clients_of(session: Session, organization_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The first OAuth client bound to each organisation (the one it registered with)."""
    first: dict[uuid.UUID, str] = {}
    for row in repo.clients_of_organizations(session, organization_ids) if organization_ids else ():
        first.setdefault(row.organization_id, row.client_id)
    return first
