"""The authorization endpoint and the consent screen (the login that feeds them:
``idp.oidc.login_routes``).

``/oauth2/authorize`` validates the request (Authlib), sends a person without a (fresh enough)
login session upstream (ESIA), then asks the person on the consent screen what the relying party
may learn and do — unless the person granted this client every requested scope before
(``appgrants``) or the client is one of Propusk's own (``first_party``). The screen is a plain
HTML form: its decision comes back to ``/oauth2/authorize/decision`` with the parked request,
the session's CSRF token and the person's answer; only then is a code issued.

``prompt`` (OIDC Core 3.1.2.1): ``none`` never shows a page (``login_required`` /
``consent_required``), ``login`` always logs in again, ``consent`` always shows the screen.
``max_age``: a login older than that many seconds logs in again; ``auth_time`` and ``acr`` are
in every ID token. Only ``response_mode=query`` is served.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import OAuth2Error
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from idp.guardianship import age_group, children_of
from idp.identity import full_name, get_person
from idp.oidc import appgrants, csrf, logins
from idp.oidc.clients import get_client
from idp.oidc.principal import SESSION_COOKIE
from idp.oidc.requests import StarletteOAuth2Request
from idp.oidc.web import FormDep, html_page, make_server, page, start_upstream
from idp.schools import get_organization
from policies.delegation import RESOURCE_SCOPES, describe
from propusk.db import utcnow
from propusk.deps import SessionDep, SettingsDep
from propusk.errors import Problem
from propusk.messages import oauth_text
from propusk.settings import Settings

router = APIRouter(tags=["oidc"])
PUBLIC = {"x-public": True}
# What the browser-facing routes answer: HTML pages (``response_class``) or redirects.
HTML = {"text/html": {"schema": {"type": "string"}}}
PAGE_ERRORS: dict[int | str, dict] = {
    400: {"description": "A page explaining the error", "content": HTML}
}
TO_CLIENT = {302: {"description": "To the client's redirect_uri: code or error, state, iss"}}
UPSTREAM = {"description": "A page of the login upstream, or a redirect to it (ESIA)"}
FIRST_PARTY = "_propusk_first_party"
# Parked with a consent screen: which login session the screen was shown to.
SCREEN_FOR = "_propusk_screen_for"
SCREEN_SCOPE = "_propusk_screen_scope"  # the scopes the screen showed: exactly what is granted
INTERNAL = (FIRST_PARTY, SCREEN_FOR, SCREEN_SCOPE)
BAD_REQUEST_TEXT = (
    "Приложение, которое отправило вас сюда, передало неверный запрос на вход. "
    "Вернитесь в приложение и попробуйте ещё раз."
)


def with_iss(response: Response, issuer: str) -> Response:
    """RFC 9207: the issuer in every authorization response, success or error."""
    location = response.headers.get("location")
    if location and "iss" not in dict(parse_qsl(urlsplit(location).query)):
        response.headers["location"] = add_params_to_uri(location, [("iss", issuer)])
    return response


def authorization_error(request: Request, err: OAuth2Error, settings: Settings) -> Response:
    """Redirect to a verified redirect_uri (with iss and state), else a Russian HTML page
    (the OAuth error code kept for the application's support, the reason in Russian)."""
    if err.redirect_uri:
        status, body, headers = err()
        return with_iss(Response(body, status_code=status, headers=dict(headers)), settings.issuer)
    code = err.error or "invalid_request"
    detail = f"Причина: {oauth_text(code)} (код {code})."
    return html_page(request, "Ошибка входа", BAD_REQUEST_TEXT, 400, detail)


def _refuse(request, settings, oreq, error: str, description: str) -> Response:
    err = OAuth2Error(
        description=description,
        redirect_uri=oreq.payload.redirect_uri,
        state=oreq.payload.state,
        error=error,
    )
    return authorization_error(request, err, settings)


def _parked_request(request: Request, params) -> StarletteOAuth2Request:
    """An authorization request as Authlib reads it: ``params`` as the query of a GET (also
    when a parked request is resumed by a POSTed form)."""
    return StarletteOAuth2Request("GET", str(request.url), request.headers, params, [])


def refuse_parked(
    request, session, settings, params, error: str, description: str
) -> Response | None:
    """The OAuth error answer to a parked request (the person denied it, or the upstream login
    failed), re-validated so it goes only to the client's registered redirect URI; None when the
    request no longer validates (the caller shows the person a page instead)."""
    server = make_server(request, session, settings)
    oreq = _parked_request(request, params)
    try:
        server.get_consent_grant(oreq, end_user=None)
        return _refuse(request, settings, oreq, error, description)
    except (OAuth2Error, ValueError, TypeError):  # Authlib refuses to echo hostile input
        return None


def _plain(value: str | None, limit: int) -> bool:
    return value is None or (len(value) <= limit and value.isprintable())


def _child_delegating(person, scope: str) -> bool:
    """A child under 14 asked to let an application act on their data (resource scopes): that
    is their legal representative's decision, never the child's alone."""
    return age_group(person) == "under14" and bool(set(scope.split()) & set(RESOURCE_SCOPES))


def _max_age(value: str | None) -> int | None:
    """``max_age`` in seconds if it is a plain non-negative integer (below 10**9), else None."""
    if value is None or not (value.isascii() and value.isdigit() and len(value) < 10):
        return None
    return int(value)


def _bad_max_age(params: dict[str, str]) -> bool:
    return params.get("max_age") is not None and _max_age(params["max_age"]) is None


def run_authorization(
    request: Request,
    session,
    settings: Settings,
    params,
    login,
    *,
    consented: bool = False,
    shown_scope: str | None = None,
) -> Response | None:
    """Validate and, for a logged-in person who has granted the scopes, issue the code.

    None: the person must log in first. ``consented``: the person has just allowed this very
    request on the consent screen, which showed ``shown_scope`` (what is granted must be what
    was shown: a client whose allowed scopes changed meanwhile is asked again)."""
    server = make_server(request, session, settings)
    oreq = _parked_request(request, params)
    person = get_person(session, login.person_id) if login is not None else None
    try:
        grant = server.get_consent_grant(oreq, end_user=person)
    except OAuth2Error as err:
        return authorization_error(request, err, settings)
    except (ValueError, TypeError):  # Authlib refuses to echo non-printable input
        return html_page(
            request, "Ошибка входа", "Запрос на вход содержит недопустимые символы.", 400
        )
    data = oreq.payload.data
    mode = data.get("response_mode")
    if mode is not None and mode != "query":  # never answer silently in another mode
        return html_page(
            request,
            "Ошибка входа",
            BAD_REQUEST_TEXT,
            400,
            "Приложение просит вернуть ответ неподдерживаемым способом "
            f"(response_mode={mode[:40]}); Пропуск отвечает только переадресацией (query).",
        )
    for name in ("request", "request_uri"):  # OIDC Core 6: say so rather than ignore them
        if data.get(name):
            return _refuse(
                request, settings, oreq, f"{name}_not_supported", f"{name} is not supported"
            )
    if _bad_max_age(data):
        return _refuse(request, settings, oreq, "invalid_request", "max_age must be an integer")
    if not _plain(data.get("nonce"), 255):  # stored with the code: printable, bounded
        return _refuse(request, settings, oreq, "invalid_request", "nonce is malformed")
    scope = oreq.scope or ""
    if not scope.split():  # nothing to ask for is nothing to grant (and no silent code)
        return _refuse(request, settings, oreq, "invalid_scope", "no scope requested")
    if person is None or getattr(grant, "prompt", None) == "login":
        return None
    client = grant.client
    if _child_delegating(person, scope):
        return _refuse(
            request,
            settings,
            oreq,
            "access_denied",
            "a child under 14 cannot let an application reach their data",
        )
    prompts = set((data.get("prompt") or "").split())
    must_ask = "consent" in prompts or not appgrants.covers(
        session, person.id, client.client_id, scope
    )
    if consented and shown_scope != scope:
        consented = False
    if must_ask and not consented and not client.first_party:
        if "none" in prompts:
            return _refuse(request, settings, oreq, "consent_required", "consent is required")
        return consent_screen(request, session, params, login, scope)
    if consented:
        appgrants.remember(session, person.id, client.client_id, scope, now=utcnow())
    oreq.login = login
    response = server.create_authorization_response(oreq, grant_user=person, grant=grant)
    return with_iss(response, settings.issuer)


def consent_screen(request, session, params, login, scope) -> Response:
    """Park the request and send the browser to the consent screen (303: a reload of the screen
    shows it again instead of replaying the upstream callback)."""
    parked = dict(params)
    parked.pop("prompt", None)  # answered by the screen
    parked[SCREEN_FOR] = login.id_hash
    parked[SCREEN_SCOPE] = scope
    txn = logins.create_transaction(session, parked)
    return RedirectResponse("/oauth2/authorize/consent?" + urlencode({"txn": txn}), 303)


@router.get(
    "/oauth2/authorize/consent",
    openapi_extra=PUBLIC,
    response_class=HTMLResponse,
    responses={200: {"description": "The consent screen"}, **PAGE_ERRORS},
)
def screen(request: Request, session: SessionDep, settings: SettingsDep, txn: str = "") -> Response:
    """The consent screen (Russian, a plain form with the CSRF token): who asks (the
    application, its organisation and address), what it will learn and what it may do."""
    login = logins.active_login_session(session, request.cookies.get(SESSION_COOKIE))
    params = logins.peek_transaction(session, txn)
    if login is None or params is None or params.get(SCREEN_FOR) != login.id_hash:
        return html_page(
            request, "Запрос устарел", "Вернитесь в приложение и начните вход заново.", 400
        )
    client = get_client(session, params.get("client_id", ""))
    person = get_person(session, login.person_id)
    if client is None or person is None:
        return html_page(request, "Запрос устарел", "Начните вход заново.", 400)
    scope = params.get(SCREEN_SCOPE, "")
    learns, acts = describe(scope)
    context = {
        "title": "Доступ приложения",
        "client_name": client.name,
        "organization": _organization(session, client),
        "site": urlsplit(params.get("redirect_uri", "")).netloc,
        "person_name": full_name(person),
        "learns": learns,
        "acts": acts,
        "children": _children_reached(session, person, scope),
        "txn": txn,
        "csrf": csrf.token_for(settings, login.id_hash),
        "switch_url": "/oauth2/logout",
    }
    return page(request, "consent.html", context)


def _organization(session, client) -> str | None:
    """The registered organisation behind a client (name and ОГРН), if it is bound to one."""
    org = get_organization(session, client.organization_id) if client.organization_id else None
    return f"{org.name}, ОГРН {org.ogrn}" if org is not None else None


def _children_reached(session, person, scope: str) -> list[str]:
    """The minors the application would learn about — and, with resource scopes, act on as it
    acts on the person's own data: only with the ``children`` scope (policies.delegation)."""
    if "children" not in scope.split():
        return []
    return [full_name(c) for c in children_of(session, person.id)]


@router.post(
    "/oauth2/authorize/decision",
    openapi_extra=PUBLIC,
    response_class=HTMLResponse,
    responses={
        200: {"description": "A page: access refused, or the request can no longer be answered"},
        **TO_CLIENT,
        **PAGE_ERRORS,
        403: {"description": "A page: not from Propusk's own consent screen", "content": HTML},
    },
)
def decision(
    request: Request, session: SessionDep, settings: SettingsDep, form: FormDep
) -> Response:
    """The person's answer on the consent screen: allow issues the code, deny answers the
    relying party ``access_denied``. Only the login session the screen was shown to, from
    Propusk's own page (Origin and CSRF token), can answer, and only once."""
    fields = dict(form or [])
    login = logins.active_login_session(session, request.cookies.get(SESSION_COOKIE))
    if login is None:
        return html_page(request, "Вход не выполнен", "Сессия истекла. Начните вход заново.", 400)
    try:
        csrf.verify(request, settings, login, fields.get(csrf.FIELD))
    except Problem:
        return html_page(
            request,
            "Запрос отклонён",
            "Ответ пришёл не со страницы Пропуска или страница устарела. Начните вход заново.",
            403,
        )
    params = logins.take_transaction(
        session, fields.get("txn", ""), lambda parked: parked.get(SCREEN_FOR) == login.id_hash
    )
    if params is None:
        return html_page(
            request, "Вход не выполнен", "Запрос устарел или уже обработан. Начните заново.", 400
        )
    resume = [(k, v) for k, v in params.items() if k not in INTERNAL]
    if fields.get("decision") != "allow":
        denied = refuse_parked(
            request, session, settings, resume, "access_denied", "The person denied access"
        )
        return denied or html_page(request, "Доступ не предоставлен", "Вы отказали приложению.")
    response = run_authorization(
        request,
        session,
        settings,
        resume,
        login,
        consented=True,
        shown_scope=params.get(SCREEN_SCOPE),
    )
    return response or html_page(request, "Ошибка входа", "Не удалось завершить вход.", 400)


def _login_too_old(login, params: list[tuple[str, str]]) -> bool:
    max_age = _max_age(dict(params).get("max_age"))
    if login is None or max_age is None:
        return False  # a malformed max_age is refused by run_authorization
    return utcnow() - login.auth_time > timedelta(seconds=max_age)


AUTHORIZE_RESPONSES: dict[int | str, dict] = {
    200: UPSTREAM,
    **TO_CLIENT,
    303: {"description": "To the consent screen"},
    **PAGE_ERRORS,
}


@router.get(
    "/oauth2/authorize",
    openapi_extra=PUBLIC,
    operation_id="authorize_get",
    response_class=HTMLResponse,
    responses=AUTHORIZE_RESPONSES,
)
@router.post(
    "/oauth2/authorize",
    openapi_extra=PUBLIC,
    operation_id="authorize_post",
    response_class=HTMLResponse,
    responses=AUTHORIZE_RESPONSES,
)
def authorize(
    request: Request, session: SessionDep, settings: SettingsDep, form: FormDep
) -> Response:
    """The authorization endpoint (OIDC Core 3.1.2): ``response_type=code`` with PKCE S256.

    A person without a (fresh enough, ``max_age``) login is sent upstream first; the consent
    screen asks unless every requested scope was granted before or the client is first-party;
    then the browser goes back to the client with the code (``response_mode=query``, RFC 9207
    ``iss``). Errors go to a verified redirect URI, else to a Russian page."""
    if form is None:
        return html_page(request, "Ошибка входа", "Запрос на вход не удалось прочитать.", 400)
    params = list(request.query_params.multi_items()) if request.method == "GET" else form
    params = [(k, v) for k, v in params if k not in INTERNAL]
    login = logins.active_login_session(session, request.cookies.get(SESSION_COOKIE))
    if _login_too_old(login, params):
        login = None
    response = run_authorization(request, session, settings, params, login)
    if response is not None:
        return response
    return start_upstream(request, session, dict(params))
