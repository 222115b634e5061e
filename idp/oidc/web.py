"""What the protocol routes share: reading form bodies, Russian pages, the per-request server.

The pages of idp.oidc (login errors, the consent screen, the logout confirmation) are Jinja2
templates of this package on Propusk's page layout, with no script at all: they work with
scripts off and under the strict Content-Security-Policy of every page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from idp.oidc.authorization_server import PropuskAuthorizationServer
from idp.oidc.fastpath import parse_form
from propusk.settings import Settings

HERE = Path(__file__).parent
# Propusk's page layout (``base.html``) lives with the web UI; it is read as a file, not imported.
WEB_TEMPLATES = HERE.parents[1] / "propusk" / "web" / "templates"
templates = Jinja2Templates(directory=[str(HERE / "templates"), str(WEB_TEMPLATES)])


async def form_pairs(request: Request) -> list[tuple[str, str]] | None:
    """The POST body as (name, value) pairs; [] for GET; None if it cannot be parsed."""
    if request.method != "POST":
        return []
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/x-www-form-urlencoded":
        return parse_form(await request.body())
    if ctype == "multipart/form-data":
        try:
            form = await request.form()
        except Exception:  # malformed multipart body
            return None
        return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    return None


FormDep = Annotated[list[tuple[str, str]] | None, Depends(form_pairs)]


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """A Russian page of this package (never cached, like every page: ``propusk.headers``)."""
    return templates.TemplateResponse(request, name, context, status_code=status)


def html_page(
    request: Request, title: str, text: str, status: int = 200, detail: str | None = None
) -> HTMLResponse:
    """A short message page (errors, «Вы вышли»)."""
    return page(request, "message.html", {"title": title, "text": text, "detail": detail}, status)


def make_server(request: Request, session, settings: Settings) -> PropuskAuthorizationServer:
    """The request's authorization server (sharing the app's client cache)."""
    return PropuskAuthorizationServer(session, settings, request.app.state.oidc.fast.clients)
