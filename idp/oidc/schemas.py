"""Request and response models of the client and key administration API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

GrantType = Literal["authorization_code", "refresh_token", "client_credentials"]
AuthMethod = Literal["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]


class ClientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
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
