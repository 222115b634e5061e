"""Request and response models of idp.oidc's routes.

The admin API (clients, keys) and the session routes answer with these models. The protocol
endpoints (discovery, JWKS, token, introspection, revocation, userinfo) build their own bodies
(the token lane, Authlib, cached bytes): their models only *document* the RFC body in
``/openapi.json`` (``responses={200: {"model": ...}}``) and are never used to serialise it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from propusk.validators import one_line

GrantType = Literal["authorization_code", "refresh_token", "client_credentials"]
AuthMethod = Literal["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]


class ClientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # shown on the consent screen: no control, bidirectional or zero-width characters
    name: Annotated[str, AfterValidator(one_line)] = Field(min_length=1, max_length=200)
    grant_types: list[GrantType] = Field(min_length=1)
    auth_method: AuthMethod = "client_secret_basic"
    redirect_uris: list[str] = Field(default_factory=list, max_length=20)
    post_logout_redirect_uris: list[str] = Field(default_factory=list, max_length=20)
    scopes: list[str] | None = Field(default=None, max_length=50)
    jwks: dict | None = None
    jwks_uri: str | None = Field(default=None, max_length=500)
    role: Literal["operator", "supplier"] | None = None
    organization_id: uuid.UUID | None = None
    id_token_alg: Literal["ES256", "RS256"] = "ES256"
    first_party: bool = False
    return_uris: list[str] = Field(default_factory=list, max_length=20)
    resource_server_for: list[str] = Field(default_factory=list, max_length=50)


class ClientOut(BaseModel):
    client_id: str
    name: str
    auth_method: str
    id_token_alg: str
    grant_types: list[str]
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    scopes: list[str]
    jwks_uri: str | None
    role: str | None
    first_party: bool = False
    return_uris: list[str] = []
    resource_server_for: list[str] = []
    organization_id: str | None
    created_at: str


class ClientCreated(ClientOut):
    client_secret: str | None = Field(
        default=None, description="Shown once; only a SHA-256 of it is stored."
    )


class SecretRotated(BaseModel):
    client_id: str
    client_secret: str = Field(
        description="the new secret, in this answer only (the old one no longer works)"
    )


class NamesOut(BaseModel):
    names: dict[str, str] = Field(
        description="key (person:<id>, client:<id>, org:<id>, school:<id>) → its name; "
        "unknown keys are left out"
    )


class BindingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organization_id: uuid.UUID | None
    role: Literal["operator", "supplier"] | None


class KeysRotated(BaseModel):
    current: list[str]


class SessionOut(BaseModel):
    """The caller's login session in Propusk's own pages (never shown to relying parties)."""

    person_id: uuid.UUID
    csrf_token: str = Field(description="send as X-CSRF-Token with every state change")
    auth_time: datetime
    method: str
    acr: str | None
    confirmed: bool = Field(description="the ESIA account was confirmed at this login")


class ApplicationOut(BaseModel):
    """An application (relying party) the person gave access on the consent screen."""

    client_id: str
    name: str
    scopes: list[str]
    scope_texts: list[str]
    granted_at: datetime
    updated_at: datetime
    last_token_at: datetime | None


class ApplicationRevoked(BaseModel):
    client_id: str
    token_families_revoked: int


# -- protocol bodies (documentation only) -------------------------------------------------------
class OAuthError(BaseModel):
    """An OAuth 2 error answer (RFC 6749 §5.2, RFC 6750 §3)."""

    error: str = Field(description="invalid_request, invalid_client, invalid_grant, ...")
    error_description: str | None = None


class TokenResponse(BaseModel):
    """A successful token answer (RFC 6749 §5.1, OIDC Core 3.1.3.3)."""

    access_token: str = Field(description="a JWT access token (RFC 9068, typ at+jwt)")
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str | None = Field(default=None, description="the granted scopes, space-separated")
    refresh_token: str | None = Field(default=None, description="with offline_access only")
    id_token: str | None = Field(default=None, description="authorization_code with openid")


class IntrospectionResponse(BaseModel):
    """Token introspection (RFC 7662 §2.2): ``{"active": false}`` for any token the caller may
    not see or that is not active."""

    active: bool
    scope: str | None = None
    client_id: str | None = None
    sub: str | None = None
    aud: str | list[str] | None = None
    iss: str | None = None
    exp: int | None = None
    iat: int | None = None
    jti: str | None = None
    token_type: str | None = Field(default=None, description="Bearer or refresh_token")


class RevocationResponse(BaseModel):
    """Token revocation (RFC 7009 §2.2): an empty object, also for a token that was unknown."""

    model_config = ConfigDict(extra="forbid")


class ChildClaim(BaseModel):
    sub: str
    name: str
    age_group: str


class UserInfo(BaseModel):
    """The userinfo claims (OIDC Core 5.3.2) the token's scopes open; absent when unknown."""

    model_config = ConfigDict(extra="allow")

    sub: str
    name: str | None = None
    family_name: str | None = None
    given_name: str | None = None
    middle_name: str | None = None
    birthdate: str | None = None
    gender: str | None = None
    email: str | None = None
    email_verified: bool | None = None
    age_group: str | None = Field(default=None, description="under14 | 14to17 | adult")
    school_statuses: list[dict] | None = None
    children: list[ChildClaim] | None = None


class JsonWebKey(BaseModel):
    """A public signing key (RFC 7517); ``kid`` is its RFC 7638 thumbprint."""

    model_config = ConfigDict(extra="allow")

    kty: str
    kid: str
    alg: str
    use: str = "sig"


class JsonWebKeySet(BaseModel):
    """The service's public keys (RFC 7517 §5): every key not yet retired."""

    keys: list[JsonWebKey]


class DiscoveryDocument(BaseModel):
    """OpenID Provider metadata (OIDC Discovery 1.0 §3, RFC 8414); more fields may follow."""

    model_config = ConfigDict(extra="allow")

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    end_session_endpoint: str
    introspection_endpoint: str
    revocation_endpoint: str
    scopes_supported: list[str]
    response_types_supported: list[str]
    grant_types_supported: list[str]
    subject_types_supported: list[str]
    id_token_signing_alg_values_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    code_challenge_methods_supported: list[str]
