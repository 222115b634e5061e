"""OIDC protocol endpoints: discovery, keys, token, introspection, revocation, userinfo, logout.

All public: the protocol authenticates. The authorization endpoint and the consent screen are
in ``idp.oidc.authorize``, the login and its callback in ``idp.oidc.login_routes``. Authlib's
server code is synchronous, so those routes are plain ``def`` (threadpool). Bodies are read on
the event loop by the ``form_pairs`` dependency first. ``POST /oauth2/token`` is ``async def``:
client_credentials with a client secret is served from memory (``idp.oidc.fastpath``); every
other grant goes to Authlib in the threadpool.

The protocol bodies are built by the token lane, Authlib or cached bytes, not by FastAPI: their
shapes are documented with ``responses={200: {"model": ...}}`` (``idp.oidc.schemas``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

import orjson
from authlib.common.urls import add_params_to_uri
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from audit.service import record
from idp.claims import claims_for
from idp.identity import get_person
from idp.oidc import acr, csrf, keys, logins
from idp.oidc.clientauth import ASSERTION_ALGS, attempted_client_id, basic_credentials
from idp.oidc.clients import (
    AUTH_METHODS,
    CONFIDENTIAL_AUTH_METHODS,
    GRANT_TYPES,
    ID_TOKEN_ALGS,
    get_client,
)
from idp.oidc.fastpath import BASIC, RETRY, oauth_error, parse_form, to_response, too_many
from idp.oidc.principal import SESSION_COOKIE, InvalidToken, bearer_token, verify_access_token
from idp.oidc.requests import oauth_request
from idp.oidc.schemas import (
    DiscoveryDocument,
    IntrospectionResponse,
    JsonWebKeySet,
    OAuthError,
    RevocationResponse,
    TokenResponse,
    UserInfo,
)
from idp.oidc.web import FormDep, html_page, make_server, page
from policies.delegation import ALL_SCOPES
from propusk.db import session_scope
from propusk.deps import SessionDep, SettingsDep
from propusk.settings import Settings

log = logging.getLogger("propusk.oidc")

router = APIRouter(tags=["oidc"])
PUBLIC = {"x-public": True}
# The OAuth error bodies every token-family endpoint may answer with (RFC 6749 §5.2).
OAUTH_ERRORS: dict[int | str, dict] = {
    400: {"model": OAuthError, "description": "OAuth error (invalid_request, invalid_grant, ...)"},
    401: {"model": OAuthError, "description": "Client authentication failed (invalid_client)"},
}
CLAIMS_SUPPORTED = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
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


def _endpoint(settings: Settings, path: str) -> str:
    return settings.issuer.rstrip("/") + path


# -- discovery and keys ---------------------------------------------------------------------
@router.get(
    "/.well-known/openid-configuration",
    openapi_extra=PUBLIC,
    responses={200: {"model": DiscoveryDocument, "description": "OpenID Provider metadata"}},
)
async def discovery(settings: SettingsDep) -> JSONResponse:
    """OpenID Provider metadata (OIDC Discovery 1.0): endpoints, scopes, algorithms, methods.

    Cacheable for five minutes."""
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
        "scopes_supported": list(ALL_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(GRANT_TYPES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(ID_TOKEN_ALGS),
        "userinfo_signing_alg_values_supported": ["none"],
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
        "introspection_endpoint_auth_methods_supported": list(CONFIDENTIAL_AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(CONFIDENTIAL_AUTH_METHODS),
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": list(acr.SUPPORTED),
        "claims_supported": CLAIMS_SUPPORTED,
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "ui_locales_supported": ["ru"],
    }
    return JSONResponse(doc, headers={"Cache-Control": "public, max-age=300"})


@router.get(
    "/jwks.json",
    openapi_extra=PUBLIC,
    responses={200: {"model": JsonWebKeySet, "description": "The public signing keys"}},
)
async def jwks(request: Request) -> Response:
    """The service's public signing keys (JWK Set): they verify access tokens, ID tokens,
    receipts and transfer tickets. Retired keys are no longer listed.

    Served from memory, re-read from the database at most every ``JWKS_TTL`` seconds."""
    body = await request.app.state.oidc.jwks()
    return Response(
        body, media_type="application/json", headers={"Cache-Control": "public, max-age=60"}
    )


# -- token, introspection, revocation -------------------------------------------------------
def _malformed_basic(request: Request) -> Response | None:
    """Malformed ``Authorization: Basic`` credentials are invalid_client before Authlib runs
    (the same parser as the fast lane and the registered client authentication,
    ``idp.oidc.clientauth``), so the Authlib call itself runs without a catch-all."""
    if basic_credentials(request.headers.get("authorization")) is False:
        log.info("malformed Basic credentials")
        return oauth_error("invalid_client", "Malformed Basic credentials", 401, BASIC)
    return None


def _failed_client(response: Response) -> bool:
    if response.status_code not in (400, 401):
        return False
    try:
        return orjson.loads(response.body).get("error") == "invalid_client"
    except (orjson.JSONDecodeError, AttributeError):
        return False


def _limited(request: Request, form: dict, answer: Callable[[], Response]) -> Response:
    """``answer()`` under the failed-client-authentication limits, the same ``AuthFailures``
    as the token lane: a peer over its limit is refused before any check, and an
    ``invalid_client`` answer counts (and becomes 429 once over a limit)."""
    failures = request.app.state.oidc.failures
    peer = request.client.host if request.client else None
    wait = failures.refused(peer)
    if wait is not None:
        return to_response(too_many(wait))
    response = answer()
    if _failed_client(response):
        claimed = attempted_client_id(request.headers.get("authorization"), form)
        wait = failures.failed(claimed, peer)
        if wait is not None:
            return to_response(too_many(wait))
    return response


def _token_slow(request: Request, pairs: list[tuple[str, str]]) -> Response:
    """Authlib's token endpoint in one transaction (committed also for OAuth errors, so that
    reuse detection's revocations stick)."""
    return _limited(request, dict(pairs), lambda: _token_answer(request, pairs))


def _token_answer(request: Request, pairs: list[tuple[str, str]]) -> Response:
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


@router.post(
    "/oauth2/token",
    openapi_extra=PUBLIC,
    responses={
        200: {"model": TokenResponse, "description": "Tokens issued"},
        **OAUTH_ERRORS,
        503: {"model": OAuthError, "description": "No signing key yet (temporarily_unavailable)"},
    },
)
async def token(request: Request) -> Response:
    """The token endpoint (RFC 6749 §3.2): ``authorization_code`` (PKCE S256 required),
    ``refresh_token`` (rotated; a reused one revokes its family) and ``client_credentials``.

    Form-encoded body; clients authenticate with ``client_secret_basic``,
    ``client_secret_post`` or ``private_key_jwt`` (public clients: ``none``, code flow only).
    client_credentials with a client secret is answered by the token lane in front of the app
    (``idp.oidc.fastpath``) with the same body."""
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
        peer = request.client.host if request.client else None
        answer = await fast.client_credentials(request.headers.get("authorization"), form, peer)
        if answer is not None:
            return to_response(answer)
    return await run_in_threadpool(_token_slow, request, pairs)


def _token_endpoint(name: str, request: Request, session, settings, form) -> Response:
    if form is None:
        return oauth_error("invalid_request", "Use application/x-www-form-urlencoded")

    def answer() -> Response:
        refused = _malformed_basic(request)
        if refused is not None:
            return refused
        server = make_server(request, session, settings)
        return server.create_endpoint_response(name, oauth_request(request, [], form))

    return _limited(request, dict(form), answer)


@router.post(
    "/oauth2/introspect",
    openapi_extra=PUBLIC,
    responses={
        200: {"model": IntrospectionResponse, "description": "Introspection"},
        **OAUTH_ERRORS,
    },
)
def introspect(
    request: Request, session: SessionDep, settings: SettingsDep, form: FormDep
) -> Response:
    """Token introspection (RFC 7662) for confidential clients: their own tokens and those of
    the clients they are a resource server for; any other token is ``{"active": false}``."""
    return _token_endpoint("introspection", request, session, settings, form)


@router.post(
    "/oauth2/revoke",
    openapi_extra=PUBLIC,
    responses={200: {"model": RevocationResponse, "description": "Revoked"}, **OAUTH_ERRORS},
)
def revoke(request: Request, session: SessionDep, settings: SettingsDep, form: FormDep) -> Response:
    """Token revocation (RFC 7009) for confidential clients: a refresh token revokes its whole
    family, an access token itself. Another client's or an unknown token is ignored (200)."""
    return _token_endpoint("revocation", request, session, settings, form)


# -- userinfo ----------------------------------------------------------------------------------
def _bearer_error(error: str, description: str, status: int) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={"WWW-Authenticate": f'Bearer error="{error}"', "Cache-Control": "no-store"},
    )


USERINFO_RESPONSES: dict[int | str, dict] = {
    200: {"model": UserInfo, "description": "The claims the token's scopes open"},
    401: {"model": OAuthError, "description": "No, an invalid or an expired bearer token"},
    403: {"model": OAuthError, "description": "Not a person's token with the openid scope"},
}


@router.get(
    "/oauth2/userinfo",
    openapi_extra=PUBLIC,
    operation_id="userinfo_get",
    responses=USERINFO_RESPONSES,
)
@router.post(
    "/oauth2/userinfo",
    openapi_extra=PUBLIC,
    operation_id="userinfo_post",
    responses=USERINFO_RESPONSES,
)
def userinfo(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """The UserInfo endpoint (OIDC Core 5.3): the person's claims by the scopes of the bearer
    access token (a person's token with ``openid``)."""
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
    person_id = _person_id(claims["sub"])
    person = get_person(session, person_id) if person_id else None
    if person is None:
        return _bearer_error("invalid_token", "unknown subject", 401)
    return JSONResponse(claims_for(session, person, scopes), headers={"Cache-Control": "no-store"})


def _person_id(sub: str) -> uuid.UUID | None:
    """The person a user token's ``sub`` names, or None if it is not a person id."""
    try:
        return uuid.UUID(sub)
    except (ValueError, TypeError, AttributeError):
        return None


# -- RP-initiated logout --------------------------------------------------------------------------
LOGOUT_PARAMS = ("client_id", "post_logout_redirect_uri", "state")


def _hint_claims(session, settings: Settings, hint: str | None) -> dict | bool | None:
    """The claims of an id_token_hint of ours (expired is fine); None if absent, False if it is
    not an ID token we signed."""
    if not hint:
        return None
    try:
        header, claims = keys.verify_jws(session, settings, hint)
    except keys.InvalidJWS:
        return False
    if header.get("typ") != "JWT" or claims.get("iss") != settings.issuer:
        return False  # only our ID tokens: not access tokens, receipts or transfer tickets
    aud = claims.get("aud")
    aud = aud[0] if isinstance(aud, list) and aud else aud
    if not isinstance(aud, str) or not isinstance(claims.get("sub"), str):
        return False
    if get_client(session, aud) is None:
        return False
    return {**claims, "aud": aud}


def _logout_target(session, params: dict, hinted: dict | None):
    """(client, target URI) of a logout request, or a Russian reason it cannot be honoured."""
    client_id = params.get("client_id") or (hinted["aud"] if hinted else None)
    if hinted and params.get("client_id") and params["client_id"] != hinted["aud"]:
        return None, None, "client_id не совпадает с id_token_hint."
    target = params.get("post_logout_redirect_uri")
    client = get_client(session, client_id) if client_id else None
    if target and (client is None or target not in client.post_logout_redirect_uris):
        return None, None, "Адрес возврата после выхода не зарегистрирован."
    return client, target, None


LOGOUT_RESPONSES: dict[int | str, dict] = {
    200: {"description": "A page: logged out, or confirm the logout"},
    302: {"description": "Back to the registered post_logout_redirect_uri"},
    400: {
        "description": "A page: the logout request cannot be honoured",
        "content": {"text/html": {"schema": {"type": "string"}}},
    },
}


@router.get(
    "/oauth2/logout",
    openapi_extra=PUBLIC,
    operation_id="logout_get",
    response_class=HTMLResponse,
    responses=LOGOUT_RESPONSES,
)
@router.post(
    "/oauth2/logout",
    openapi_extra=PUBLIC,
    operation_id="logout_post",
    response_class=HTMLResponse,
    responses=LOGOUT_RESPONSES,
)
def logout(request: Request, session: SessionDep, settings: SettingsDep, form: FormDep) -> Response:
    """RP-initiated logout (OIDC RP-Initiated Logout 1.0).

    The session ends at once only for a valid ``id_token_hint`` naming the person logged in
    here; anything else — no hint, another person's hint, a bare link a third-party page made
    the browser open — gets a confirmation page whose form (CSRF token, same origin) ends it."""
    if form is None:
        return html_page(request, "Ошибка выхода", "Запрос на выход не удалось прочитать.", 400)
    params = dict(request.query_params) if request.method == "GET" else dict(form)
    hinted = _hint_claims(session, settings, params.get("id_token_hint"))
    if hinted is False:
        return html_page(request, "Ошибка выхода", "Параметр id_token_hint недействителен.", 400)
    client, target, problem = _logout_target(session, params, hinted)
    if problem:
        return html_page(request, "Ошибка выхода", problem, 400)
    login = logins.active_login_session(session, request.cookies.get(SESSION_COOKIE))
    if login is not None and not (hinted and hinted["sub"] == str(login.person_id)):
        confirmed = request.method == "POST" and params.get("confirm") == "1"
        if not confirmed or not _csrf_ok(request, settings, login, params):
            return _confirm_logout(request, settings, login, params, client)
    if login is not None:
        logins.end_login_session(session, request.cookies.get(SESSION_COOKIE))
        record(
            session,
            "logout",
            actor=f"person:{login.person_id}",
            subject=f"person:{login.person_id}",
            body={"client_id": client.client_id if client else None},
        )
    if target:
        state = params.get("state")
        response: Response = RedirectResponse(
            add_params_to_uri(target, [("state", state)]) if state else target, status_code=302
        )
    else:
        response = html_page(
            request,
            "Вы вышли",
            "Вы вышли из Пропуска. Вход на Госуслугах этим не завершается: на чужом "
            "компьютере выйдите и на Госуслугах.",
        )
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _csrf_ok(request: Request, settings: Settings, login, params: dict) -> bool:
    try:
        csrf.verify(request, settings, login, params.get(csrf.FIELD))
    except Exception:  # Forbidden: show the confirmation again rather than an error
        return False
    return True


def _confirm_logout(request: Request, settings: Settings, login, params: dict, client) -> Response:
    carried = {k: params[k] for k in LOGOUT_PARAMS if params.get(k)}
    context = {
        "title": "Выход из Пропуска",
        "client_name": client.name if client else None,
        "carried": carried,
        "csrf": csrf.token_for(settings, login.id_hash),
    }
    return page(request, "logout.html", context)
