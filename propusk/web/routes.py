"""Pages of the web UI (Russian).

The pages are shells: every piece of personal data is fetched by the page's script from the
JSON API, where the policy engine guards it. A shell therefore carries no data and no policy of
its own; for an anonymous visitor the cabinet redirects to the ESIA login first.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from idp.oidc.csrf import token_of
from propusk.deps import PrincipalDep, SettingsDep

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)
PUBLIC = {"x-public": True}


@router.get("/", response_class=HTMLResponse, openapi_extra=PUBLIC)
def index(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "index.html", {})


def _shell(request: Request, settings, principal, name: str) -> Response:
    """A page for a person logged in to Propusk's own pages, with the session's CSRF token
    (its scripts send it with every state change; pages are never cached: propusk.headers)."""
    if principal.kind != "person" or not principal.first_party:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=302)
    return templates.TemplateResponse(request, name, {"csrf": token_of(settings, principal)})


@router.get("/cabinet", openapi_extra=PUBLIC)
def cabinet(request: Request, settings: SettingsDep, principal: PrincipalDep) -> Response:
    """The participant's cabinet; logs in through ESIA (``/login``) when needed."""
    return _shell(request, settings, principal, "cabinet.html")


@router.get("/school/{school_id}", openapi_extra=PUBLIC)
def school_console(
    school_id: uuid.UUID, request: Request, settings: SettingsDep, principal: PrincipalDep
) -> Response:
    """The school admin's console: roster import, statuses, proctors (data via the API)."""
    return _shell(request, settings, principal, "school.html")
