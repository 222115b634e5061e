"""What the protocol routes share: reading form bodies, Russian pages, the per-request server.

The pages of idp.oidc (login errors, the consent screen, the logout confirmation) are Jinja2
templates of this package on Propusk's page layout, with no script at all: they work with
scripts off and under the strict Content-Security-Policy of every page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from idp.oidc import logins
from idp.oidc.authorization_server import PropuskAuthorizationServer
from idp.oidc.fastpath import parse_form
from propusk.ratelimit import parse_rule, peer_key
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
    request: Request,
    title: str,
    text: str,
    status: int = 200,
    detail: str | None = None,
    retry: str | None = None,
) -> HTMLResponse:
    """A short message page (errors, «Вы вышли»); ``retry``: a local path to try again at."""
    context = {"title": title, "text": text, "detail": detail, "retry": retry}
    return page(request, "message.html", context, status)


def make_server(request: Request, session, settings: Settings) -> PropuskAuthorizationServer:
    """The request's authorization server (sharing the app's client cache)."""
    return PropuskAuthorizationServer(session, settings, request.app.state.oidc.fast.clients)


def start_upstream(request: Request, session: Session, values: dict[str, str]) -> Response:
    """Park the login transaction and send the browser to the upstream (ESIA) — the one place
    both Propusk's own login and a relying party's authorization start a login, so the per-IP
    limit on login starts (a transaction row and an ESIA round trip each) holds for both."""
    settings: Settings = request.app.state.settings
    rule = parse_rule("login-start-ip", settings.rate_login_starts_ip)
    peer = peer_key(request.client.host) if request.client else "?"
    verdict = request.app.state.runtime.limiter.take(rule, peer or "?")
    if not verdict.allowed:
        answer = html_page(
            request,
            "Слишком много попыток входа",
            "С вашего адреса начато слишком много входов подряд. "
            f"Повторите через {verdict.retry_after} с.",
            429,
        )
        answer.headers["Retry-After"] = str(verdict.retry_after)
        return answer
    txn = logins.create_transaction(session, values)
    return request.app.state.oidc.upstream().start(request, txn)
