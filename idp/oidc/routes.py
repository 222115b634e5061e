"""OIDC protocol endpoints and the login callback (all public: the protocol authenticates).

Authlib's server code is synchronous, so those routes are plain ``def`` (threadpool). Bodies
are read on the event loop by the ``form_pairs`` dependency first. ``POST /oauth2/token`` is
``async def``: client_credentials with a client secret is served from memory
(``idp.oidc.fastpath``); every other grant goes to Authlib in the threadpool.
"""

from __future__ import annotations

import html
import logging
from datetime import timedelta
from typing import Annotated

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import OAuth2Error
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from idp.oidc import keys, service
from idp.oidc.fastpath import BASIC, RETRY, oauth_error, parse_form, to_response
from idp.oidc.principal import SESSION_COOKIE, InvalidToken, bearer_token, verify_access_token
from idp.oidc.server import (
    ALL_AUTH_METHODS,
    ASSERTION_ALGS,
    CONFIDENTIAL_AUTH_METHODS,
    PropuskAuthorizationServer,
    StarletteOAuth2Request,
    with_iss,
)
from idp.upstream import UpstreamError
from propusk.db import session_scope, utcnow
from propusk.deps import SessionDep, SettingsDep
from propusk.settings import Settings

log = logging.getLogger("propusk.oidc")

router = APIRouter(tags=["oidc"])
PUBLIC = {"x-public": True}
FIRST_PARTY = "_propusk_first_party"
CLAIMS_SUPPORTED = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "amr",
    "sid",
    "at_hash",
    "name",
    "family_name",
    "given_name",
    "middle_name",
    "birthdate",
    "gender",
    "email",
    "email_verified",
    "age_group",
    "school_statuses",
    "children",
]
HTML_PAGE = """<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>{text}</p>{extra}</body></html>"""


# -- helpers ------------------------------------------------------------------------------
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


def html_page(title: str, text: str, status: int = 200, extra: str = "") -> HTMLResponse:
    body = HTML_PAGE.format(title=html.escape(title), text=html.escape(text), extra=extra)
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def make_server(request: Request, session, settings: Settings) -> PropuskAuthorizationServer:
    return PropuskAuthorizationServer(session, settings, request.app.state.oidc.fast.clients)


def oauth_request(request: Request, query, form) -> StarletteOAuth2Request:
    return StarletteOAuth2Request(request.method, str(request.url), request.headers, query, form)


def _endpoint(settings: Settings, path: str) -> str:
    return settings.issuer.rstrip("/") + path


# -- discovery and keys ---------------------------------------------------------------------
@router.get("/.well-known/openid-configuration", openapi_extra=PUBLIC)
async def discovery(settings: SettingsDep) -> JSONResponse:
    e = lambda path: _endpoint(settings, path)  # noqa: E731
    doc = {
        "issuer": settings.issuer,
        "authorization_endpoint": e("/oauth2/authorize"),
        "token_endpoint": e("/oauth2/token"),
        "userinfo_endpoint": e("/oauth2/userinfo"),
        "jwks_uri": e("/jwks.json"),
        "end_session_endpoint": e("/oauth2/logout"),
        "introspection_endpoint": e("/oauth2/introspect"),
        "revocation_endpoint": e("/oauth2/revoke"),
        "scopes_supported": list(service.USER_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(service.GRANT_TYPES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(service.ID_TOKEN_ALGS),
        "userinfo_signing_alg_values_supported": ["none"],
        "token_endpoint_auth_methods_supported": ALL_AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
        "introspection_endpoint_auth_methods_supported": CONFIDENTIAL_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": CONFIDENTIAL_AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": CLAIMS_SUPPORTED,
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "ui_locales_supported": ["ru"],
    }
    return JSONResponse(doc, headers={"Cache-Control": "public, max-age=300"})


@router.get("/jwks.json", openapi_extra=PUBLIC)
async def jwks(request: Request) -> Response:
    """Served from memory, re-read from the database at most every ``JWKS_TTL`` seconds."""
    body = await request.app.state.oidc.jwks()
    return Response(
        body, media_type="application/json", headers={"Cache-Control": "public, max-age=60"}
    )


# -- authorization --------------------------------------------------------------------------
def authorization_error(err: OAuth2Error, settings: Settings) -> Response:
    """Redirect to a verified redirect_uri (with iss and state), else a Russian HTML page."""
    if err.redirect_uri:
        status, body, headers = err()
        return with_iss(Response(body, status_code=status, headers=dict(headers)), settings.issuer)
    text = (
        "Приложение, которое отправило вас сюда, передало неверный запрос на вход. "
        "Вернитесь в приложение и попробуйте ещё раз."
    )
    extra = f"<p><small>Код ошибки: {html.escape(err.error or '')}"
    if err.description:
        extra += f" — {html.escape(err.description)}"
    extra += "</small></p>"
    return html_page("Ошибка входа", text, 400, extra)


def run_authorization(request: Request, session, settings: Settings, params, login):
    """Validate and, with a logged-in person, issue the code; None = the person must log in."""
    from idp.service import get_person

    server = make_server(request, session, settings)
    oreq = StarletteOAuth2Request("GET", str(request.url), request.headers, params, [])
    person = get_person(session, login.person_id) if login is not None else None
    try:
        grant = server.get_consent_grant(oreq, end_user=person)
    except OAuth2Error as err:
        return authorization_error(err, settings)
    except (ValueError, TypeError):  # Authlib refuses to echo non-printable input
        return html_page("Ошибка входа", "Запрос на вход содержит недопустимые символы.", 400)
    for name in ("request", "request_uri"):  # OIDC Core 6: say so rather than ignore them
        if oreq.payload.data.get(name):
            err = OAuth2Error(
                description=f"The {name} parameter is not supported",
                redirect_uri=oreq.payload.redirect_uri,
                state=oreq.payload.state,
                error=f"{name}_not_supported",
            )
            return authorization_error(err, settings)
    if person is None or getattr(grant, "prompt", None) == "login":
        return None
    oreq.login = login
    response = server.create_authorization_response(oreq, grant_user=person, grant=grant)
    return with_iss(response, settings.issuer)


def _login_too_old(login, params: list[tuple[str, str]]) -> bool:
    max_age = dict(params).get("max_age")
    if login is None or max_age is None:
        return False
    try:
        limit = int(max_age)
    except ValueError:
        return False
    return utcnow() - login.auth_time > timedelta(seconds=max(limit, 0))


@router.get("/oauth2/authorize", openapi_extra=PUBLIC, operation_id="authorize_get")
@router.post("/oauth2/authorize", openapi_extra=PUBLIC, operation_id="authorize_post")
def authorize(
    request: Request, session: SessionDep, settings: SettingsDep, form: FormDep
) -> Response:
    if form is None:
        return html_page("Ошибка входа", "Запрос на вход не удалось прочитать.", 400)
    params = list(request.query_params.multi_items()) if request.method == "GET" else form
    params = [(k, v) for k, v in params if k != FIRST_PARTY]
    login = service.active_login_session(session, request.cookies.get(SESSION_COOKIE))
    if _login_too_old(login, params):
        login = None
    response = run_authorization(request, session, settings, params, login)
    if response is not None:
        return response
    txn = service.create_transaction(session, dict(params))
    return request.app.state.oidc.upstream().start(request, txn)


def _rp_error(err: UpstreamError) -> str:
    """The OAuth error the RP gets for an upstream failure (OIDC Core 3.1.2.6)."""
    if err.code == "DEV-000":
        return "access_denied"
    try:
        from idp.esia.errors import ESIA_CODES
    except ImportError:
        return "server_error"
    known = ESIA_CODES.get(err.code)
    if known and known.oauth_error in ("access_denied", "temporarily_unavailable"):
        return known.oauth_error
    return "server_error"


def _upstream_failed(request: Request, session, settings: Settings, upstream, err) -> Response:
    """The upstream refused or failed: when we know which authorization it was
    (``err.txn_id``), the RP gets the error response (OIDC Core 3.1.2.6: access_denied,
    temporarily_unavailable or server_error, with state and iss); else the person sees the
    upstream's Russian message."""
    page = html_page("Вход не выполнен", f"{err.message} ({err.code})", 400)
    if hasattr(upstream, "clear_cookie"):
        upstream.clear_cookie(page, request)
    txn_id = getattr(err, "txn_id", None)
    params = service.take_transaction(session, txn_id) if txn_id else None
    if not params or params.get(FIRST_PARTY) == "1":
        return page
    resume = [(k, v) for k, v in params.items() if k not in ("prompt", "max_age")]
    server = make_server(request, session, settings)
    oreq = StarletteOAuth2Request("GET", str(request.url), request.headers, resume, [])
    try:
        server.get_consent_grant(oreq, end_user=None)
    except (OAuth2Error, ValueError, TypeError):
        return page
    denied = OAuth2Error(
        description=f"Upstream login failed ({err.code})"[:200],
        redirect_uri=oreq.payload.redirect_uri,
        state=oreq.payload.state,
        error=_rp_error(err),
    )
    try:
        return authorization_error(denied, settings)
    except ValueError:
        return page


def safe_next(value: str | None) -> str:
    """Only local paths: an open redirect after login would be a phishing aid."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


@router.get("/login", openapi_extra=PUBLIC)
def first_party_login(
    request: Request, session: SessionDep, settings: SettingsDep, next: str = "/"
) -> Response:
    """Log in to Propusk's own web UI (no OAuth client): upstream, then back to ``next``."""
    if service.active_login_session(session, request.cookies.get(SESSION_COOKIE)):
        return RedirectResponse(safe_next(next), status_code=302)
    txn = service.create_transaction(session, {FIRST_PARTY: "1", "next": safe_next(next)})
    return request.app.state.oidc.upstream().start(request, txn)


@router.get("/login/{name}/callback", openapi_extra=PUBLIC, operation_id="login_callback_get")
@router.post("/login/{name}/callback", openapi_extra=PUBLIC, operation_id="login_callback_post")
def login_callback(
    name: str, request: Request, session: SessionDep, settings: SettingsDep, form: FormDep
) -> Response:
    """The upstream hands the browser back: person → login session → resume authorization.

    Upstreams read POSTed fields from ``request.state.form`` (already parsed here).
    """
    from audit.service import record
    from idp.service import on_login

    upstream = request.app.state.oidc.upstream()
    if name != upstream.name:
        return html_page("Ошибка входа", "Неизвестный способ входа.", 404)
    request.state.form = dict(form or [])
    try:
        txn_id, identity = upstream.finish(request)
    except UpstreamError as err:
        log.info("upstream login failed: %s", err.code)
        return _upstream_failed(request, session, settings, upstream, err)
    params = service.take_transaction(session, txn_id)
    if params is None:
        return html_page("Вход не выполнен", "Время на вход истекло. Начните вход заново.", 400)
    person = on_login(session, identity, settings=settings)
    amr = [identity.auth_method.lower()] if identity.auth_method else []
    raw = service.create_login_session(
        session, person.id, amr=amr, upstream=upstream.name, ttl=settings.login_session_ttl
    )
    record(
        session,
        "login.success",
        actor=f"person:{person.id}",
        subject=f"person:{person.id}",
        body={"upstream": upstream.name, "client_id": params.get("client_id")},
    )
    login = service.active_login_session(session, raw)
    if params.get(FIRST_PARTY) == "1":
        response: Response = RedirectResponse(safe_next(params.get("next")), status_code=302)
    else:
        resume = [(k, v) for k, v in params.items() if k not in ("prompt", "max_age")]
        response = run_authorization(request, session, settings, resume, login)
        if response is None:  # cannot happen with a fresh login; be explicit anyway
            response = html_page("Ошибка входа", "Не удалось завершить вход.", 400)
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


# -- token, introspection, revocation -------------------------------------------------------
def _malformed_basic(request: Request) -> Response | None:
    """The one step of Authlib's request handling that raises on hostile input: it decodes
    ``Authorization: Basic`` credentials as base64 (non-ASCII → ValueError) and then UTF-8
    (other bytes → UnicodeDecodeError). Parse them here first and answer such a header with
    invalid_client, so that the Authlib call itself runs without a catch-all."""
    try:
        extract_basic_authorization(request.headers)
    except ValueError as exc:
        log.info("malformed Basic credentials: %s", type(exc).__name__)
        return oauth_error("invalid_client", "Malformed Basic credentials", 401, BASIC)
    return None


def _token_slow(request: Request, pairs: list[tuple[str, str]]) -> Response:
    """Authlib's token endpoint in one transaction (committed also for OAuth errors, so that
    reuse detection's revocations stick)."""
    refused = _malformed_basic(request)
    if refused is not None:
        return refused
    app = request.app
    try:
        with session_scope(app.state.sessionmaker) as session:
            server = make_server(request, session, app.state.settings)
            return server.create_token_response(oauth_request(request, [], pairs))
    except keys.NoSigningKey:  # rolled back: the code or refresh token is not spent
        return oauth_error("temporarily_unavailable", "No signing key yet", 503, RETRY)


@router.post("/oauth2/token", openapi_extra=PUBLIC)
async def token(request: Request) -> Response:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        return oauth_error("invalid_request", "Use application/x-www-form-urlencoded")
    pairs = parse_form(await request.body())
    if pairs is None:
        return oauth_error("invalid_request", "Body is not valid form data")
    form = dict(pairs)
    if len(form) != len(pairs):
        return oauth_error("invalid_request", "A parameter is repeated")
    if form.get("grant_type") == "client_credentials":
        fast = request.app.state.oidc.fast
        answer = await fast.client_credentials(request.headers.get("authorization"), form)
        if answer is not None:
            return to_response(answer)
    return await run_in_threadpool(_token_slow, request, pairs)


def _token_endpoint(name: str, request: Request, session, settings, form) -> Response:
    if form is None:
        return oauth_error("invalid_request", "Use application/x-www-form-urlencoded")
    refused = _malformed_basic(request)
    if refused is not None:
        return refused
    server = make_server(request, session, settings)
    return server.create_endpoint_response(name, oauth_request(request, [], form))


@router.post("/oauth2/introspect", openapi_extra=PUBLIC)
def introspect(
    request: Request, session: SessionDep, settings: SettingsDep, form: FormDep
) -> Response:
    return _token_endpoint("introspection", request, session, settings, form)


@router.post("/oauth2/revoke", openapi_extra=PUBLIC)
def revoke(request: Request, session: SessionDep, settings: SettingsDep, form: FormDep) -> Response:
    return _token_endpoint("revocation", request, session, settings, form)


# -- userinfo ----------------------------------------------------------------------------------
def _bearer_error(error: str, description: str, status: int) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={"WWW-Authenticate": f'Bearer error="{error}"', "Cache-Control": "no-store"},
    )


@router.get("/oauth2/userinfo", openapi_extra=PUBLIC, operation_id="userinfo_get")
@router.post("/oauth2/userinfo", openapi_extra=PUBLIC, operation_id="userinfo_post")
def userinfo(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    from idp.service import claims_for, get_person

    raw = bearer_token(request)
    if raw is None:
        return JSONResponse(
            {"error": "invalid_request", "error_description": "Bearer token required"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="propusk"'},
        )
    try:
        claims = verify_access_token(session, settings, raw, request.app.state.oidc.fast.clients)
    except InvalidToken as exc:
        return _bearer_error("invalid_token", str(exc), 401)
    scopes = set(str(claims.get("scope", "")).split())
    if claims["sub"] == claims.get("client_id") or "openid" not in scopes:
        return _bearer_error("insufficient_scope", "userinfo needs a user token with openid", 403)
    from idp.oidc.server import new_person_id

    person_id = new_person_id(claims["sub"])
    person = get_person(session, person_id) if person_id else None
    if person is None:
        return _bearer_error("invalid_token", "unknown subject", 401)
    return JSONResponse(claims_for(session, person, scopes), headers={"Cache-Control": "no-store"})


# -- RP-initiated logout --------------------------------------------------------------------------
def _hint_audience(session, settings: Settings, hint: str | None) -> str | bool | None:
    """The client named by an id_token_hint (expired is fine); False if it is not ours."""
    if not hint:
        return None
    try:
        _, claims = keys.verify_jws(session, settings, hint)
    except keys.InvalidJWS:
        return False
    if claims.get("iss") != settings.issuer:
        return False
    aud = claims.get("aud")
    return aud[0] if isinstance(aud, list) and aud else aud if isinstance(aud, str) else False


@router.get("/oauth2/logout", openapi_extra=PUBLIC, operation_id="logout_get")
@router.post("/oauth2/logout", openapi_extra=PUBLIC, operation_id="logout_post")
def logout(request: Request, session: SessionDep, settings: SettingsDep, form: FormDep) -> Response:
    from audit.service import record

    if form is None:
        return html_page("Ошибка выхода", "Запрос на выход не удалось прочитать.", 400)
    params = dict(request.query_params) if request.method == "GET" else dict(form)
    hinted = _hint_audience(session, settings, params.get("id_token_hint"))
    if hinted is False:
        return html_page("Ошибка выхода", "Параметр id_token_hint недействителен.", 400)
    client_id = params.get("client_id") or hinted
    if hinted and params.get("client_id") and params["client_id"] != hinted:
        return html_page("Ошибка выхода", "client_id не совпадает с id_token_hint.", 400)
    target = params.get("post_logout_redirect_uri")
    client = service.get_client(session, client_id) if client_id else None
    client_id = client.client_id if client else None  # only a known client goes to audit
    if target and (client is None or target not in client.post_logout_redirect_uris):
        return html_page("Ошибка выхода", "Адрес возврата после выхода не зарегистрирован.", 400)
    ended = service.end_login_session(session, request.cookies.get(SESSION_COOKIE))
    if ended is not None:
        record(
            session,
            "logout",
            actor=f"person:{ended.person_id}",
            subject=f"person:{ended.person_id}",
            body={"client_id": client_id},
        )
    if target:
        state = params.get("state")
        response: Response = RedirectResponse(
            add_params_to_uri(target, [("state", state)]) if state else target, status_code=302
        )
    else:
        response = html_page("Вы вышли", "Вы вышли из Пропуска. Окно можно закрыть.")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
