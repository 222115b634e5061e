"""Client and key administration API (platform_admin): the HTTP twin of the CLI."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from idp.oidc import clients, keys, names
from idp.oidc.schemas import (
    BindingIn,
    ClientCreated,
    ClientIn,
    ClientOut,
    KeysRotated,
    NamesOut,
    SecretRotated,
)
from propusk.deps import SessionDep, SettingsDep, require
from propusk.errors import NotFound, problems
from propusk.security import Principal

router = APIRouter(prefix="/api/v1", tags=["clients"])


@router.get("/clients", response_model=list[ClientOut])
def list_clients(session: SessionDep, principal: Principal = require("client", "read")) -> list:
    """Every registered OAuth client (never a secret)."""
    return [clients.client_json(c) for c in clients.list_clients(session)]


@router.post("/clients", response_model=ClientCreated, status_code=201, responses=problems(400))
def create_client(
    body: ClientIn, session: SessionDep, principal: Principal = require("client", "write")
) -> dict:
    """Register a client. A secret-based client's ``client_secret`` is in this answer only:
    store it now (Propusk keeps a SHA-256 of it)."""
    row, secret = clients.create_client(session, **body.model_dump(), actor=principal.subject)
    return dict(clients.client_json(row), client_secret=secret)


@router.get("/clients/{client_id}", response_model=ClientOut)
def get_client(
    client_id: str, session: SessionDep, principal: Principal = require("client", "read")
) -> dict:
    """One registered client."""
    row = clients.client_row(session, client_id)
    if row is None:
        raise NotFound(f"client {client_id} does not exist")
    return clients.client_json(row)


@router.put("/clients/{client_id}/binding", response_model=ClientOut)
def bind_client(
    client_id: str,
    body: BindingIn,
    session: SessionDep,
    principal: Principal = require("client", "write"),
) -> dict:
    """Bind an operator or supplier client to its organisation (or unbind it): its tokens act
    with that role in ``org:<organization_id>``."""
    row = clients.bind_client(
        session, client_id, body.organization_id, body.role, actor=principal.subject
    )
    return clients.client_json(row)


@router.post("/clients/{client_id}/secret", response_model=SecretRotated)
def rotate_secret(
    client_id: str, session: SessionDep, principal: Principal = require("client", "write")
) -> dict:
    """A new secret for a secret-based client, in this answer only; the old one stops working
    (409 ``client-without-secret`` for a client that authenticates by key or not at all).
    Access tokens already issued stay valid until they expire (``access_token_ttl``): delete
    the client to cut them off at once."""
    secret = clients.rotate_secret(session, client_id, actor=principal.subject)
    return {"client_id": client_id, "client_secret": secret}


@router.delete("/clients/{client_id}", status_code=204)
def delete_client(
    client_id: str, session: SessionDep, principal: Principal = require("client", "write")
) -> Response:
    """Delete a client with its codes, grants and tokens: none of its tokens works any more."""
    clients.delete_client(session, client_id, actor=principal.subject)
    return Response(status_code=204)


@router.post("/keys/rotate", response_model=KeysRotated)
def rotate_keys(
    session: SessionDep, settings: SettingsDep, principal: Principal = require("key", "rotate")
) -> dict:
    """Add a new signing key per algorithm and make it current; old keys keep verifying until
    they are retired (``propusk keys retire``). Answers the new key ids."""
    keys.ensure_keys(session, settings)
    return {"current": keys.rotate(session, settings, actor=principal.subject)}


@router.get("/names", response_model=NamesOut)
def subject_names(
    session: SessionDep,
    key: Annotated[list[str], Query(max_length=names.MAX_NAMES)],
    principal: Principal = require("policy", "read"),
) -> dict:
    """What the subjects and domains the policy names are called (``person:<id>``,
    ``client:<id>``, ``org:<id>``, ``school:<id>`` → a name); unknown keys are left out."""
    return {"names": names.names(session, [k for k in key if len(k) <= 200])}
