"""Public routes of the composition root (no policy: they reveal nothing personal): health and
readiness probes, and the catalogue of Russian messages the pages' scripts read."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import text

from propusk.messages import Catalogue, catalogue_json

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


# Not personal and the same for everyone: browsers and proxies may keep it for an hour, then
# revalidate (the ETag changes only with a new release).
MESSAGES_CACHE = "public, max-age=3600"


@router.get(
    "/api/v1/messages",
    response_model=Catalogue,
    responses={304: {"description": "The copy the caller holds (If-None-Match) is current"}},
    openapi_extra={"x-public": True},
    tags=["messages"],
)
def messages(request: Request) -> Response:
    """The Russian texts of failures: problem types, HTTP statuses, validation errors (with the
    fields' labels), the transfer gate's refusal reasons, OAuth error codes and biometric
    results. The pages' scripts (``/static/api.js``) show these, never an English ``detail``."""
    body, etag = catalogue_json()
    headers = {"Cache-Control": MESSAGES_CACHE, "ETag": etag}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)
