"""Shared FastAPI dependencies: the request's session, settings and principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from propusk.db import get_session
from propusk.security import Principal, resolve_principal
from propusk.settings import Settings

# scope="function": commit (or roll back) before the response is sent.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def _settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(_settings)]


def _principal(request: Request, session: SessionDep) -> Principal:
    return resolve_principal(request, session)


PrincipalDep = Annotated[Principal, Depends(_principal)]
