"""The ESIA simulator: a separate ASGI app speaking ESIA's protocol (esia-notes, "contract").

It checks what ESIA checks, for real: the client's GOST signature over the §2.2 concatenation,
the certificate hash, timestamp freshness, registered redirect URIs, PKCE, single-use codes and
the fresh token-request state; it answers with ESIA's error shapes (§6), issues GOST-signed
JWTs (§3) and serves the REST resources (§5) filtered by the granted scopes. State lives in
memory (codes, tokens): the simulator is for demos and tests, one process.

Our own addition: ``GET /public/cert.pem`` publishes the simulator's signing certificate (real
ESIA publishes ``/public/esia.zip``).
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from idp.esia import errors
from idp.esia.connector import (
    decode_secret,
    parse_timestamp,
    pkce_challenge,
    secret_payload,
)
from idp.esia.gost import verify_gost
from idp.esia.simulator import data as views
from idp.esia.simulator.config import RegisteredClient, SimulatorConfig
from idp.esia.tokens import encode_gost_jwt
from propusk.settings import Settings

HERE = Path(__file__).parent


def _simulator_base(request: Request) -> dict[str, str]:
    """Where the pages find the stylesheet, mounted (``/esia-sim``) or served alone."""
    return {"simulator_base": request.app.state.simulator.config.base_url.rstrip("/")}


TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"), context_processors=[_simulator_base])
AC_REQUIRED = (
    "client_id",
    "client_secret",
    "client_certificate_hash",
    "redirect_uri",
    "scope",
    "response_type",
    "state",
    "timestamp",
)
TE_REQUIRED = (
    "client_id",
    "code",
    "grant_type",
    "client_certificate_hash",
    "client_secret",
    "state",
    "redirect_uri",
    "scope",
    "timestamp",
)


class EsiaFailure(Exception):
    """An ESIA error answer: redirected (v2/ac) or JSON (v3/te)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


@dataclass
class Pending:
    """A validated v2/ac request waiting for the person to choose who logs in."""

    client_id: str
    redirect_uri: str
    scope: str
    scope_org: str
    state: str
    code_challenge: str | None
    access_type: str
    expires: float


@dataclass
class Grant:
    client_id: str
    oid: str
    scope: str
    scope_org: str
    redirect_uri: str
    auth_state: str
    code_challenge: str | None
    access_type: str
    expires: float
    used: bool = False
    tokens: list[str] = field(default_factory=list)


@dataclass
class TokenGrant:
    client_id: str
    oid: str
    scopes: set[str]
    expires: float


class SimulatorState:
    """In-memory protocol state, safe across the threadpool."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: dict[str, Pending] = {}
        self.codes: dict[str, Grant] = {}
        self.tokens: dict[str, TokenGrant] = {}
        self.refresh: dict[str, Grant] = {}

    def prune(self, now: float) -> None:
        """Forget expired entries (used codes stay until expiry so reuse is recognised)."""
        for table in (self.pending, self.codes, self.tokens, self.refresh):
            for key in [k for k, v in table.items() if v.expires < now]:
                del table[key]


def create_simulator_app(config: SimulatorConfig) -> Starlette:
    """The simulator as an ASGI app: mount it under ``/esia-sim`` or serve it alone."""
    sim = _Simulator(config)
    routes = [
        Route("/", sim.index),
        Route("/healthz", sim.health),
        Route("/aas/oauth2/v2/ac", sim.authorize, methods=["GET"]),
        Route("/aas/oauth2/v2/ac", sim.choose, methods=["POST"]),
        Route("/aas/oauth2/v3/te", sim.token, methods=["POST"]),
        Route("/idp/ext/Logout", sim.logout),
        Route("/public/cert.pem", sim.cert_pem),
        Route("/public/cert.der", sim.cert_der),
        Route("/static/simulator.css", sim.stylesheet),
        Route("/rs/prns/{oid}", sim.person),
        Route("/rs/prns/{oid}/{collection}", sim.collection),
        Route("/rs/prns/{oid}/{collection}/{item}", sim.element),
        Route("/rs/orgs/{org_oid}", sim.organization),
    ]
    app = Starlette(routes=routes)
    app.state.simulator = sim
    return app


class _Simulator:
    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.state = SimulatorState()

    # --- helpers -------------------------------------------------------------------------------

    def now(self) -> float:
        return self.config.clock().timestamp()

    def _client(self, params: dict[str, str]) -> RegisteredClient:
        client = self.config.clients.get(params["client_id"])
        if client is None:
            raise EsiaFailure("ESIA-007002", "unknown client_id")
        return client

    def _check_signature(
        self, client: RegisteredClient, params: dict[str, str], code: str | None
    ) -> None:
        """Certificate hash, timestamp window, then the GOST signature (the costly part)."""
        certificate = client.certificates.get(params["client_certificate_hash"].strip().upper())
        if certificate is None:
            raise EsiaFailure("ESIA-007002", "client_certificate_hash matches no certificate")
        try:
            moment = parse_timestamp(params["timestamp"])
        except ValueError:
            raise EsiaFailure("ESIA-007015", "timestamp format") from None
        now = self.config.clock()
        if abs(now - moment) > timedelta(seconds=self.config.timestamp_window):
            raise EsiaFailure("ESIA-007015", "timestamp outside the allowed window")
        if not certificate.valid_at(now):
            raise EsiaFailure("ESIA-007053", "certificate not valid now")
        payload = secret_payload(
            params["client_id"],
            params["scope"],
            params["timestamp"],
            params["state"],
            params["redirect_uri"],
            code,
            params.get("scope_org", ""),
        )
        if not verify_gost(certificate, payload, decode_secret(params["client_secret"])):
            raise EsiaFailure("ESIA-007053", "signature does not verify")

    @staticmethod
    def _check_scope(scope: str) -> None:
        names = scope.split()
        if not names:
            raise EsiaFailure("ESIA-007013")
        unknown = [n for n in names if n not in views.KNOWN_SCOPES]
        if unknown:
            raise EsiaFailure("ESIA-007006", "unknown scope " + " ".join(unknown))

    @staticmethod
    def _error_redirect(redirect_uri: str, code: str, state: str | None) -> RedirectResponse:
        params = {
            "error": errors.oauth_error(code),
            "error_description": errors.error_description(code),
        }
        if state:
            params["state"] = state
        separator = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(redirect_uri + separator + urlencode(params), status_code=302)

    @staticmethod
    def _error_page(request: Request, code: str, status: int = 400) -> HTMLResponse:
        context = {"code": code, "message": errors.describe(code)}
        return TEMPLATES.TemplateResponse(request, "error.html", context, status_code=status)

    @staticmethod
    def _json_error(code: str, state: str | None, status: int = 400) -> JSONResponse:
        body = {
            "error": errors.oauth_error(code),
            "error_description": errors.error_description(code),
        }
        if state:
            body["state"] = state
        return JSONResponse(body, status_code=status)

    # --- service endpoints ---------------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        return TEMPLATES.TemplateResponse(
            request, "index.html", {"base": self.config.base_url, "clients": self.config.clients}
        )

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def cert_pem(self, request: Request) -> Response:
        return Response(self.config.certificate.pem(), media_type="application/x-pem-file")

    async def stylesheet(self, request: Request) -> Response:
        """The pages' styles, a file: Propusk's pages allow no inline style (propusk.headers)."""
        return FileResponse(HERE / "static" / "simulator.css", media_type="text/css")

    async def cert_der(self, request: Request) -> Response:
        return Response(self.config.signer.certificate_der, media_type="application/pkix-cert")

    async def logout(self, request: Request) -> Response:
        """``/idp/ext/Logout?client_id=…&redirect_url=…`` (no signature, notes §7)."""
        params = request.query_params
        client = self.config.clients.get(params.get("client_id", ""))
        target = params.get("redirect_url")
        if client and target and client.allows_redirect(target):
            return RedirectResponse(target, status_code=302)
        return TEMPLATES.TemplateResponse(request, "logout.html", {})

    # --- authorization (v2/ac) -----------------------------------------------------------------

    async def authorize(self, request: Request) -> Response:
        params = dict(request.query_params)
        missing = [name for name in AC_REQUIRED if not params.get(name)]
        client = self.config.clients.get(params.get("client_id", ""))
        redirect_uri = params.get("redirect_uri", "")
        if client is None:
            code = "ESIA-007014" if "client_id" in missing else "ESIA-007002"
            return self._error_page(request, code)
        if not redirect_uri or not client.allows_redirect(redirect_uri):
            return self._error_page(request, "ESIA-007014" if not redirect_uri else "ESIA-007023")
        state = params.get("state")
        try:
            if missing:
                raise EsiaFailure("ESIA-007014", "missing " + ",".join(missing))
            if params["response_type"] != "code":
                raise EsiaFailure("ESIA-007012")
            self._check_scope(params["scope"])
            method = params.get("code_challenge_method", "S256")
            if params.get("code_challenge") and method != "S256":
                raise EsiaFailure("ESIA-007003", "code_challenge_method must be S256")
            await run_in_threadpool(self._check_signature, client, params, None)
        except EsiaFailure as failure:
            return self._error_redirect(redirect_uri, failure.code, state)
        rid = secrets.token_urlsafe(16)
        pending = Pending(
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            scope=params["scope"],
            scope_org=params.get("scope_org", ""),
            state=params["state"],
            code_challenge=params.get("code_challenge") or None,
            access_type=params.get("access_type", "online"),
            expires=self.now() + self.config.code_ttl * 2,
        )
        with self.state.lock:
            self.state.prune(self.now())
            self.state.pending[rid] = pending
        context = {
            "rid": rid,
            "action": self.config.base_url.rstrip("/") + "/aas/oauth2/v2/ac",
            "client_id": client.client_id,
            "scopes": params["scope"].split(),
            "people": [_login_card(p) for p in self.config.data.listing()],
        }
        return TEMPLATES.TemplateResponse(request, "login.html", context)

    async def choose(self, request: Request) -> Response:
        """The login form: ``oid`` picks the demo person, ``deny`` refuses (ESIA-007004)."""
        form = await request.form()
        rid = str(form.get("rid", ""))
        with self.state.lock:
            pending = self.state.pending.pop(rid, None)
        if pending is None or pending.expires < self.now():
            return self._error_page(request, "ESIA-007003")
        if form.get("deny"):
            return self._error_redirect(pending.redirect_uri, "ESIA-007004", pending.state)
        oid = str(form.get("oid", ""))
        if self.config.data.person(oid) is None:
            return self._error_redirect(pending.redirect_uri, "ESIA-007003", pending.state)
        code = secrets.token_urlsafe(32)
        grant = Grant(
            client_id=pending.client_id,
            oid=oid,
            scope=pending.scope,
            scope_org=pending.scope_org,
            redirect_uri=pending.redirect_uri,
            auth_state=pending.state,
            code_challenge=pending.code_challenge,
            access_type=pending.access_type,
            expires=self.now() + self.config.code_ttl,
        )
        with self.state.lock:
            self.state.codes[code] = grant
        separator = "&" if "?" in pending.redirect_uri else "?"
        query = urlencode({"code": code, "state": pending.state})
        return RedirectResponse(pending.redirect_uri + separator + query, status_code=302)

    # --- token (v3/te) -------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        try:
            form = await request.form()
        except Exception:  # malformed body: ESIA cannot read the parameters
            return self._json_error("ESIA-007038", None)
        params = {key: str(value) for key, value in form.items()}
        state = params.get("state")
        try:
            body = await run_in_threadpool(self._exchange, params)
        except EsiaFailure as failure:
            return self._json_error(failure.code, state)
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    def _exchange(self, params: dict[str, str]) -> dict[str, Any]:
        if params.get("grant_type") == "refresh_token":
            return self._refresh(params)
        missing = [name for name in TE_REQUIRED if not params.get(name)]
        if missing:
            raise EsiaFailure("ESIA-007014", "missing " + ",".join(missing))
        if params["grant_type"] != "authorization_code":
            code = "ESIA-007005" if params["grant_type"] == "client_credentials" else "ESIA-007009"
            raise EsiaFailure(code)
        client = self._client(params)
        self._check_signature(client, params, params["code"])
        grant = self._redeem(params)
        self._check_grant(grant, params)
        body = self._issue(grant)
        body["state"] = params["state"]  # the connector checks the echo
        return body

    def _refresh(self, params: dict[str, str]) -> dict[str, Any]:
        """``grant_type=refresh_token``: signed without a code (notes §2.2); rotates the token."""
        required = [n for n in TE_REQUIRED if n != "code"] + ["refresh_token"]
        missing = [name for name in required if not params.get(name)]
        if missing:
            raise EsiaFailure("ESIA-007014", "missing " + ",".join(missing))
        client = self._client(params)
        self._check_signature(client, params, None)
        with self.state.lock:
            grant = self.state.refresh.pop(params["refresh_token"], None)
        if grant is None or grant.client_id != client.client_id:
            raise EsiaFailure("ESIA-007011", "unknown or used refresh token")
        if params["scope"] != grant.scope:
            raise EsiaFailure("ESIA-007006", "scope differs from the original grant")
        body = self._issue(grant)
        body["state"] = params["state"]
        return body

    def _redeem(self, params: dict[str, str]) -> Grant:
        """Single use: a second redemption fails and revokes what the first one got."""
        with self.state.lock:
            grant = self.state.codes.get(params["code"])
            if grant is None or grant.expires < self.now():
                raise EsiaFailure("ESIA-007011", "unknown or expired code")
            if grant.used:
                for token in grant.tokens:
                    self.state.tokens.pop(token, None)
                raise EsiaFailure("ESIA-007011", "code already used")
            grant.used = True
        return grant

    @staticmethod
    def _check_grant(grant: Grant, params: dict[str, str]) -> None:
        if grant.client_id != params["client_id"] or grant.redirect_uri != params["redirect_uri"]:
            raise EsiaFailure("ESIA-007011", "code issued to another client or redirect_uri")
        if params["scope"] != grant.scope or params.get("scope_org", "") != grant.scope_org:
            raise EsiaFailure("ESIA-007006", "scope differs from the authorization request")
        try:
            uuid.UUID(params["state"])
        except ValueError:
            raise EsiaFailure("ESIA-007003", "state must be a UUID") from None
        if params["state"] == grant.auth_state:
            raise EsiaFailure("ESIA-007003", "the token request needs a fresh state")
        verifier = params.get("code_verifier")
        if grant.code_challenge is None:
            if verifier:
                raise EsiaFailure("ESIA-007039")
        elif not verifier or pkce_challenge(verifier) != grant.code_challenge:
            raise EsiaFailure("ESIA-007040")

    def _issue(self, grant: Grant) -> dict[str, Any]:
        """Access token (and id_token for ``openid``) signed with the simulator's GOST key."""
        config = self.config
        now = int(self.now()) + config.token_time_offset
        exp = now + config.token_ttl
        oid = int(grant.oid)
        names = grant.scope.split()
        scope = " ".join(n if n == "openid" else f"{n}?oid={oid}" for n in names)
        claims = {
            "nbf": now,
            "scope": scope,
            "iss": config.token_issuer,
            "urn:esia:sid": secrets.token_hex(32),
            "urn:esia:sbj_id": oid,
            "exp": exp,
            "iat": now,
            "client_id": grant.client_id,
        }
        header = {"ver": 1, "typ": "JWT", "sbt": "access"}
        access_token = encode_gost_jwt(header, claims, config.signer)
        body: dict[str, Any] = {
            "access_token": access_token,
            "expires_in": config.token_ttl,
            "token_type": "Bearer",
        }
        if "openid" in names:
            body["id_token"] = encode_gost_jwt(
                {"ver": 0, "typ": "JWT", "sbt": "id"},
                self._id_claims(grant, now, exp),
                config.signer,
            )
        if grant.access_type == "offline":
            body["refresh_token"] = str(uuid.uuid4())
            with self.state.lock:
                self.state.refresh[body["refresh_token"]] = replace(
                    grant, expires=self.now() + 30 * 24 * 3600
                )
        with self.state.lock:
            self.state.tokens[access_token] = TokenGrant(
                grant.client_id, grant.oid, set(names), self.now() + config.token_ttl
            )
            grant.tokens.append(access_token)
        return body

    def _id_claims(self, grant: Grant, now: int, exp: int) -> dict[str, Any]:
        person = self.config.data.person(grant.oid) or {}
        oid = int(grant.oid)
        subject: dict[str, Any] = {
            "urn:esia:sbj:typ": "P",
            "urn:esia:sbj:oid": oid,
            "urn:esia:sbj:nam": f"OID.{oid}",
        }
        if person.get("trusted"):
            subject["urn:esia:sbj:is_tru"] = True
        return {
            "iss": self.config.token_issuer,
            "aud": grant.client_id,
            "sub": oid,
            "nbf": now,
            "iat": now,
            "exp": exp,
            "auth_time": now,
            "amr": "PWD",
            "urn:esia:amd": "PWD",
            "urn:esia:sid": str(uuid.uuid4()),
            "urn:esia:sbj": subject,
        }

    # --- REST (/rs) ----------------------------------------------------------------------------

    def _bearer(self, request: Request, oid: str) -> TokenGrant | Response:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        with self.state.lock:
            grant = self.state.tokens.get(token)
        if grant is None or grant.expires < self.now():
            return JSONResponse(
                {"code": "ESIA-007011", "message": "invalid or expired access token"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if grant.oid != oid:
            return _forbidden("the token was issued for another person")
        return grant

    def _url(self, *parts: object) -> str:
        return self.config.base_url.rstrip("/") + "/rs/" + "/".join(str(p) for p in parts)

    async def person(self, request: Request) -> Response:
        oid = request.path_params["oid"]
        grant = self._bearer(request, oid)
        if isinstance(grant, Response):
            return grant
        person = self.config.data.person(oid)
        if person is None:
            return JSONResponse({"code": "NOT_FOUND"}, status_code=404)
        view = views.person_view(person, grant.scopes)
        for name in _embeds(request.query_params.get("embed")):
            collection = name.removesuffix(".elements")
            key = _COLLECTION_KEYS.get(collection)
            if key is None:
                continue
            items = self._items(key, person, grant.scopes)
            if items is not None:
                view[collection] = self._wrap(oid, key, items, embed=True)
        return JSONResponse(view)

    def _items(self, key: str, person: dict[str, Any], scopes: set[str]) -> list[dict] | None:
        """Elements of a person's collection, or None when no granted scope opens it."""
        oid = str(person["oid"])
        data = self.config.data
        if key == "ctts":
            opened = bool(scopes & {"email", "mobile", "contacts"})
            return views.visible_contacts(person, scopes) if opened else None
        if key == "addrs":
            return views.visible_addresses(person, scopes) if "addresses" in scopes else None
        if key == "docs":
            opened = scopes & set(views.DOC_SCOPES)
            return views.visible_documents(person, scopes) if opened else None
        if key == "kids":
            if not scopes & views.KID_SCOPES:
                return None
            kids = [data.person(kid) for kid in data.kids.get(oid, [])]
            return [views.person_view(kid, scopes, prefix="kid_") for kid in kids if kid]
        if key in ("roles", "orgs"):
            if "usr_org" not in scopes:
                return None
            return [
                views.role_view(role, data.organizations[str(role["org"])])
                for role in data.roles.get(oid, [])
            ]
        return None

    def _wrap(self, oid: str, key: str, items: list[dict], embed: bool) -> dict[str, Any]:
        """ESIA collection: ``size``, ``eTag`` and inline elements or absolute URLs."""
        if embed:
            elements: list[Any] = items
        elif key == "orgs":
            elements = [self._url("orgs", item["oid"]) for item in items]
        else:
            elements = [self._url("prns", oid, key, _item_id(item)) for item in items]
        body = {"stateFacts": ["hasSize"], "size": len(items), "elements": elements}
        body["eTag"] = views.etag(body)
        return body

    async def collection(self, request: Request) -> Response:
        oid, key = request.path_params["oid"], request.path_params["collection"]
        if key not in _COLLECTION_KEYS.values():
            return JSONResponse({"code": "NOT_FOUND"}, status_code=404)
        grant = self._bearer(request, oid)
        if isinstance(grant, Response):
            return grant
        person = self.config.data.person(oid)
        if person is None:
            return JSONResponse({"code": "NOT_FOUND"}, status_code=404)
        items = self._items(key, person, grant.scopes)
        if items is None:
            return _forbidden(f"no scope grants /{key}")
        embed = "elements" in _embeds(request.query_params.get("embed"))
        # ESIA answers /roles with inline objects even without embed (notes §5).
        return JSONResponse(self._wrap(oid, key, items, embed or key == "roles"))

    async def element(self, request: Request) -> Response:
        oid, key = request.path_params["oid"], request.path_params["collection"]
        grant = self._bearer(request, oid)
        if isinstance(grant, Response):
            return grant
        person = self.config.data.person(oid)
        items = self._items(key, person, grant.scopes) if person else None
        if items is None:
            return _forbidden(f"no scope grants /{key}")
        wanted = request.path_params["item"]
        for item in items:
            if str(_item_id(item)) == wanted:
                return JSONResponse(item)
        return JSONResponse({"code": "NOT_FOUND"}, status_code=404)

    async def organization(self, request: Request) -> Response:
        org = self.config.data.organizations.get(request.path_params["org_oid"])
        header = request.headers.get("authorization", "")
        with self.state.lock:
            grant = self.state.tokens.get(header[7:].strip())
        if grant is None or grant.expires < self.now():
            return JSONResponse({"code": "ESIA-007011"}, status_code=401)
        if org is None:
            return JSONResponse({"code": "NOT_FOUND"}, status_code=404)
        member = any(
            str(r["org"]) == str(org["oid"]) for r in self.config.data.roles.get(grant.oid, [])
        )
        if "usr_org" not in grant.scopes or not member:
            return _forbidden("ESIA-007194")
        return JSONResponse(views.organization_view(org))


_COLLECTION_KEYS = {
    "contacts": "ctts",
    "addresses": "addrs",
    "documents": "docs",
    "kids": "kids",
    "roles": "roles",
    "organizations": "orgs",
}


def _embeds(value: str | None) -> list[str]:
    """``(contacts.elements,documents.elements)`` → ``["contacts.elements", …]``."""
    if not value:
        return []
    return [part.strip() for part in value.strip().strip("()").split(",") if part.strip()]


def _item_id(item: dict[str, Any]) -> Any:
    return item.get("id", item.get("oid"))


def _forbidden(detail: str) -> JSONResponse:
    return JSONResponse({"code": "ESIA-007019", "message": detail}, status_code=403)


def _login_card(person: dict[str, Any]) -> dict[str, Any]:
    name = " ".join(
        p for p in (person["lastName"], person["firstName"], person.get("middleName")) if p
    )
    return {
        "oid": person["oid"],
        "name": name,
        "birth_date": person["birthDate"],
        "label": person.get("label", ""),
        "trusted": bool(person.get("trusted")),
    }


class _LazySimulator:
    """Builds the simulator on its first request, so mounting it costs no key generation."""

    def __init__(self, factory: Callable[[], Starlette]) -> None:
        self._factory = factory
        self._app: Starlette | None = None
        self._lock = threading.Lock()

    def _build(self) -> Starlette:
        with self._lock:
            if self._app is None:
                self._app = self._factory()
            return self._app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        app = self._app or await run_in_threadpool(self._build)
        await app(scope, receive, send)


def create_lazy_simulator_app(settings: Settings) -> _LazySimulator:
    """The simulator paired with this instance's connector (``SimulatorConfig.from_settings``)."""
    return _LazySimulator(lambda: create_simulator_app(SimulatorConfig.from_settings(settings)))
