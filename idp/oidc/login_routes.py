"""Propusk's own login and the upstream's callback: the login that feeds the authorization
endpoint.

``/login`` logs a person in to Propusk's own web UI (no OAuth client: back to ``next``, a local
path); ``/login/{upstream}/callback`` takes the browser back from the upstream (ESIA, or the
development form), finds or creates the person (``idp.login.on_login``), opens a login session
(the ``propusk_session`` cookie) and resumes the parked authorization request
(``idp.oidc.authorize.run_authorization``). An upstream failure becomes the OAuth error answer
to the relying party when the parked request is known (OIDC Core 3.1.2.6), else a page.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from audit.service import record
from idp.esia.errors import ESIA_CODES, UNAVAILABLE_CODES
from idp.login import on_login
from idp.oidc import logins
from idp.oidc.authorize import (
    FIRST_PARTY,
    HTML,
    PAGE_ERRORS,
    PUBLIC,
    UPSTREAM,
    refuse_parked,
    run_authorization,
)
from idp.oidc.principal import SESSION_COOKIE
from idp.oidc.web import FormDep, html_page, start_upstream
from idp.upstream import UpstreamError
from propusk.db import utcnow
from propusk.deps import SessionDep, SettingsDep
from propusk.settings import Settings

log = logging.getLogger("propusk.oidc")

router = APIRouter(tags=["oidc"])
ESIA_RETRY_AFTER = 60  # seconds: a person retries a login by hand, not in a loop


def _rp_error(err: UpstreamError) -> str:
    """The OAuth error the RP gets for an upstream failure (OIDC Core 3.1.2.6)."""
    if err.code == "DEV-000":
        return "access_denied"
    if err.code in UNAVAILABLE_CODES:
        return "temporarily_unavailable"
    known = ESIA_CODES.get(err.code)
    if known and known.oauth_error in ("access_denied", "temporarily_unavailable"):
        return known.oauth_error
    return "server_error"


def _after_login(params: dict[str, str]) -> list[tuple[str, str]]:
    """The parked request to resume after a fresh login: ``max_age`` and ``prompt=login`` are
    satisfied by it (``prompt=consent`` still shows the screen)."""
    resume = []
    for name, value in params.items():
        if name == "max_age":
            continue
        if name == "prompt":
            value = " ".join(p for p in value.split() if p not in ("login", "select_account"))
            if not value:
                continue
        resume.append((name, value))
    return resume


def _upstream_failed(request: Request, session, settings: Settings, upstream, err) -> Response:
    """The upstream refused or failed: when we know which authorization it was
    (``err.txn_id``), the RP gets the error response (OIDC Core 3.1.2.6: access_denied,
    temporarily_unavailable or server_error, with state and iss); else the person sees the
    upstream's Russian message — when the upstream itself did not answer (ESIA slow or away),
    a 503 page saying so, with ``Retry-After``. A failure of a login we started (its pending
    login was found and taken: starts are rate-limited, forged callbacks are not, and a replay
    of the callback with the same pending-login cookie finds it used) is audited once, with the
    code and the upstream only: nothing of the person, no code or token."""
    txn_id = getattr(err, "txn_id", None)
    params = logins.take_transaction(session, txn_id) if txn_id else None
    if params is not None:
        record(
            session,
            "login.failed",
            actor=f"upstream:{upstream.name}",
            body={"upstream": upstream.name, "code": err.code[:40]},
        )
    if err.code in UNAVAILABLE_CODES:
        back = safe_next((params or {}).get("next"))
        page_ = html_page(
            request,
            "Госуслуги не отвечают",
            err.message,
            503,
            retry="/login?" + urlencode({"next": back}),
        )
        page_.headers["Retry-After"] = str(ESIA_RETRY_AFTER)
    else:
        page_ = html_page(request, "Вход не выполнен", f"{err.message} ({err.code})", 400)
    if hasattr(upstream, "clear_cookie"):
        upstream.clear_cookie(page_, request)
    if not params or params.get(FIRST_PARTY) == "1":
        return page_
    failed = f"Upstream login failed ({err.code})"[:200]
    answer = refuse_parked(request, session, settings, _after_login(params), _rp_error(err), failed)
    return answer or page_


def safe_next(value: str | None) -> str:
    """Only local paths: an open redirect after login would be a phishing aid."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


@router.get(
    "/login",
    openapi_extra=PUBLIC,
    response_class=HTMLResponse,
    responses={200: UPSTREAM, 302: {"description": "Already logged in: back to next"}},
)
def first_party_login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    next: str = "/",
    max_age: int | None = Query(None, ge=0, le=10**9),
) -> Response:
    """Log in to Propusk's own web UI (no OAuth client): upstream, then back to ``next``.

    ``max_age`` (seconds): a login older than that logs in again — the step-up before signing
    a written-form consent."""
    login = logins.active_login_session(session, request.cookies.get(SESSION_COOKIE))
    fresh = login is not None and (
        max_age is None or utcnow() - login.auth_time <= timedelta(seconds=max(max_age, 0))
    )
    if fresh:
        return RedirectResponse(safe_next(next), status_code=302)
    return start_upstream(request, session, {FIRST_PARTY: "1", "next": safe_next(next)})


CALLBACK_RESPONSES: dict[int | str, dict] = {
    200: {"description": "A page: the login failed or could not be completed"},
    302: {"description": "To the client (code or error) or, for Propusk's own login, to next"},
    303: {"description": "To the consent screen"},
    **PAGE_ERRORS,
    404: {"description": "A page: no such way to log in", "content": HTML},
}


@router.get(
    "/login/{name}/callback",
    openapi_extra=PUBLIC,
    operation_id="login_callback_get",
    response_class=HTMLResponse,
    responses=CALLBACK_RESPONSES,
)
@router.post(
    "/login/{name}/callback",
    openapi_extra=PUBLIC,
    operation_id="login_callback_post",
    response_class=HTMLResponse,
    responses=CALLBACK_RESPONSES,
)
def login_callback(
    name: str, request: Request, session: SessionDep, settings: SettingsDep, form: FormDep
) -> Response:
    """The upstream hands the browser back: person → login session → resume authorization.

    Upstreams read POSTed fields from ``request.state.form`` (already parsed here). A new login
    replaces the browser's previous login session (it is ended)."""
    upstream = request.app.state.oidc.upstream()
    if name != upstream.name:
        return html_page(request, "Ошибка входа", "Неизвестный способ входа.", 404)
    request.state.form = dict(form or [])
    try:
        txn_id, identity = upstream.finish(request)
    except UpstreamError as err:
        log.info("upstream login failed: %s", err.code)
        return _upstream_failed(request, session, settings, upstream, err)
    params = logins.take_transaction(session, txn_id)
    if params is None:
        return html_page(
            request, "Вход не выполнен", "Время на вход истекло. Начните вход заново.", 400
        )
    person = on_login(session, identity, settings=settings)
    logins.end_login_session(session, request.cookies.get(SESSION_COOKIE))
    amr = [identity.auth_method.lower()] if identity.auth_method else []
    raw = logins.create_login_session(
        session,
        person.id,
        amr=amr,
        upstream=upstream.name,
        ttl=settings.login_session_ttl,
        confirmed=bool(identity.trusted),
        auth_time=identity.auth_time,
    )
    record(
        session,
        "login.success",
        actor=f"person:{person.id}",
        subject=f"person:{person.id}",
        body={"upstream": upstream.name, "client_id": params.get("client_id")},
    )
    login = logins.active_login_session(session, raw)
    if params.get(FIRST_PARTY) == "1":
        response: Response = RedirectResponse(safe_next(params.get("next")), status_code=302)
    else:
        response = run_authorization(request, session, settings, _after_login(params), login)
        if response is None:  # cannot happen with a fresh login; be explicit anyway
            response = html_page(request, "Ошибка входа", "Не удалось завершить вход.", 400)
    if hasattr(upstream, "clear_cookie"):
        upstream.clear_cookie(response, request)
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=settings.login_session_ttl,
        httponly=True,
        samesite="lax",
        secure=settings.issuer.startswith("https://"),
        path="/",
    )
    return response
