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

from consent import queries
from consent.wording import legal_basis_text, sentence
from idp.oidc.csrf import token_of
from propusk.deps import PrincipalDep, SessionDep, SettingsDep

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)
PUBLIC = {"x-public": True}
# The edition of the processing policy's text (templates/policy.html): change it with the text.
POLICY_EDITION = "05.12.2026"


@router.get("/favicon.ico", openapi_extra=PUBLIC)
def favicon() -> RedirectResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (the ESIA simulator's): the
    site's icon, not a 404 in their console."""
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/", response_class=HTMLResponse, openapi_extra=PUBLIC)
def index(request: Request, settings: SettingsDep) -> HTMLResponse:
    """What Propusk is, who runs it, and where each kind of visitor goes."""
    return templates.TemplateResponse(request, "index.html", {"settings": settings})


@router.get("/policy", response_class=HTMLResponse, openapi_extra=PUBLIC)
def policy(request: Request, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """The operator's policy on processing personal data (152-FZ art. 18.1 part 2: published):
    the purposes and categories as the consent catalogue has them, in Russian."""
    categories, purposes = queries.catalogue(session)
    context = {
        "settings": settings,
        "edition": POLICY_EDITION,
        "purposes": [
            {"title": p.title, "basis": sentence(legal_basis_text(p.legal_basis))}
            for p in sorted(purposes, key=lambda p: p.title)
        ],
        "categories": [
            {"title": c.title, "special": c.special, "biometric": c.biometric}
            for c in sorted(categories, key=lambda c: (c.biometric, c.special, c.title))
        ],
    }
    return templates.TemplateResponse(request, "policy.html", context)


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


@router.get("/admin", openapi_extra=PUBLIC)
def admin_console(request: Request, settings: SettingsDep, principal: PrincipalDep) -> Response:
    """The platform administrator's console: organisations, OAuth clients, policy rules and
    their history, overdue 152-FZ obligations, the audit log (data via the API, where the
    policy admits platform_admin only; anyone else reads that the page is not for them)."""
    return _shell(request, settings, principal, "admin.html")


@router.get("/operator/{org_id}", openapi_extra=PUBLIC)
def operator_console(
    org_id: uuid.UUID, request: Request, settings: SettingsDep, principal: PrincipalDep
) -> Response:
    """The operator staff's console: withdrawals, destruction, requests, templates, transfer
    statistics and (for its head) staff — data via the API, checked in ``org:<id>``."""
    return _shell(request, settings, principal, "operator.html")
