"""Client and key administration API (platform_admin): the HTTP twin of the CLI."""

from __future__ import annotations

from fastapi import APIRouter, Response

from idp.oidc import clients, keys
from idp.oidc.schemas import BindingIn, ClientCreated, ClientIn, ClientOut, KeysRotated
from policies.deps import require
from propusk.deps import SessionDep, SettingsDep
from propusk.errors import NotFound
from propusk.security import Principal

router = APIRouter(prefix="/api/v1", tags=["clients"])


@router.get("/clients", response_model=list[ClientOut])
def list_clients(session: SessionDep, principal: Principal = require("client", "read")) -> list:
    return [clients.client_json(c) for c in clients.list_clients(session)]


@router.post("/clients", response_model=ClientCreated, status_code=201)
def create_client(
    body: ClientIn, session: SessionDep, principal: Principal = require("client", "write")
) -> dict:
    row, secret = clients.create_client(session, **body.model_dump(), actor=principal.subject)
    return dict(clients.client_json(row), client_secret=secret)


@router.get("/clients/{client_id}", response_model=ClientOut)
def get_client(
    client_id: str, session: SessionDep, principal: Principal = require("client", "read")
) -> dict:
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
    row = clients.bind_client(
        session, client_id, body.organization_id, body.role, actor=principal.subject
    )
    return clients.client_json(row)


@router.delete("/clients/{client_id}", status_code=204)
def delete_client(
    client_id: str, session: SessionDep, principal: Principal = require("client", "write")
) -> Response:
    clients.delete_client(session, client_id, actor=principal.subject)
    return Response(status_code=204)


@router.post("/keys/rotate", response_model=KeysRotated)
def rotate_keys(
    session: SessionDep, settings: SettingsDep, principal: Principal = require("key", "rotate")
) -> dict:
    keys.ensure_keys(session, settings)
    return {"current": keys.rotate(session, settings, actor=principal.subject)}
