"""Pages of the web UI (Russian).

The pages are shells: every piece of personal data is fetched by the page's script from the
JSON API, where the policy engine guards it. A shell therefore carries no data and no policy of
its own; for an anonymous visitor the cabinet redirects to the ESIA login first.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from propusk.deps import PrincipalDep
from propusk.web import templates

router = APIRouter(include_in_schema=False)
PUBLIC = {"x-public": True}


@router.get("/", response_class=HTMLResponse, openapi_extra=PUBLIC)
def index(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "index.html", {})


@router.get("/cabinet", openapi_extra=PUBLIC)
def cabinet(request: Request, principal: PrincipalDep) -> Response:
    """The participant's cabinet; logs in through ESIA (``/login``) when needed."""
    if principal.kind != "person":
        return RedirectResponse("/login?next=/cabinet", status_code=302)
    return templates.TemplateResponse(request, "cabinet.html", {})


@router.get("/school/{school_id}", openapi_extra=PUBLIC)
def school_console(school_id: uuid.UUID, request: Request, principal: PrincipalDep) -> Response:
    """The school admin's console: roster import, statuses, proctors (data via the API)."""
    if principal.kind != "person":
        return RedirectResponse(f"/login?next=/school/{school_id}", status_code=302)
    return templates.TemplateResponse(request, "school.html", {})
