"""Web pages (Russian) of the biometrics package: the taker's exam page, the proctor's
«Мои экзамены» (``/proctor``) and a session's page for its proctor.

Shells only: every piece of data is fetched by the page's script from the JSON API, where the
policy engine guards it; an anonymous visitor is sent to the ESIA login first.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from idp.oidc.csrf import token_of
from propusk.deps import PrincipalDep, SettingsDep

HERE = Path(__file__).parent
WEB_TEMPLATES = HERE.parent / "propusk" / "web" / "templates"
templates = Jinja2Templates(directory=[str(HERE / "templates"), str(WEB_TEMPLATES)])
router = APIRouter(include_in_schema=False)
PUBLIC = {"x-public": True}


def _page(
    request: Request, settings, principal, name: str, exam_id: uuid.UUID | None = None
) -> Response:
    """The shell for a person in Propusk's own pages, with the session's CSRF token (its
    script sends it with every frame and decision)."""
    if principal.kind != "person" or not principal.first_party:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=302)
    context = {"exam_id": str(exam_id) if exam_id else "", "csrf": token_of(settings, principal)}
    return templates.TemplateResponse(request, name, context)


@router.get("/proctor", openapi_extra=PUBLIC)
def proctor_console(request: Request, settings: SettingsDep, principal: PrincipalDep) -> Response:
    """«Мои экзамены»: the proctor's sessions and a new session with takers picked from the
    school's students."""
    return _page(request, settings, principal, "proctor.html")


@router.get("/exams/{exam_id}/take", openapi_extra=PUBLIC)
def take_page(
    exam_id: uuid.UUID, request: Request, settings: SettingsDep, principal: PrincipalDep
) -> Response:
    """The taker's exam page (camera, liveness challenge, periodic frames)."""
    return _page(request, settings, principal, "exam_take.html", exam_id)


@router.get("/exams/{exam_id}/proctor", openapi_extra=PUBLIC)
def proctor_page(
    exam_id: uuid.UUID, request: Request, settings: SettingsDep, principal: PrincipalDep
) -> Response:
    """The proctor's view of an exam session (timelines, flags, decisions)."""
    return _page(request, settings, principal, "exam_proctor.html", exam_id)
