"""Health and readiness probes (public, no policy: they reveal nothing)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    database: Literal["up", "down"]


@router.get("/healthz", response_model=Health, openapi_extra={"x-public": True})
def healthz() -> Health:
    """Liveness: the process answers (no dependency is checked)."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "The database does not answer"}},
    openapi_extra={"x-public": True},
)
def readyz(request: Request) -> JSONResponse:
    """Readiness: the database answers a query (a load balancer sends no traffic before)."""
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # any driver error means "not ready"
        down = Readiness(status="unavailable", database="down")
        return JSONResponse(down.model_dump(), status_code=503)
    return JSONResponse(Readiness(status="ok", database="up").model_dump())
