"""Pages of the web UI."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from propusk.web import templates

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse, openapi_extra={"x-public": True})
def index(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "index.html", {})
