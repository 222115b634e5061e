"""ESIA as the ``Upstream`` of the OIDC provider: start a login, finish it into an identity.

``start`` signs the v2/ac request and keeps the pending login (state, PKCE verifier, txn id,
time) in an AES-GCM cookie under the KEK, bound to the state as associated data — no table and
no server-side session. ``finish`` checks the callback's state against that cookie, exchanges
the code at v3/te (fresh state, PKCE), verifies ESIA's token (GOST or RS256), reads the person,
contacts, children and organisation roles over REST, and returns ``(txn_id, UpstreamIdentity)``.
Every failure raises ``EsiaError`` (an ``UpstreamError``) before anything is written.

``finish`` does blocking HTTP and GOST work: call it from a sync (threadpool) route.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.exceptions import InvalidTag
from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from idp.esia.connector import (
    CALLBACK_PATH,
    DEFAULT_TIMEOUT,
    ENVIRONMENTS,
    EsiaClient,
    EsiaEnvironment,
    pkce_pair,
    simulator_environment,
)
from idp.esia.deadline import DeadlineTransport, login_deadline
from idp.esia.errors import EsiaError, from_oauth_error, transport_error
from idp.esia.gost import Signer
from idp.esia.keys import DEV_DIR, client_paths, load_signer
from idp.esia.rest import EsiaRest, embedded
from idp.esia.tokens import TokenVerifier, TrustedKey, granted_scopes, load_trusted
from idp.upstream import UpstreamChild, UpstreamIdentity, UpstreamOrgRole
from propusk.crypto import decrypt, encrypt
from propusk.settings import Settings

COOKIE_PREFIX = "propusk_esia_"
LOGIN_TTL = 15 * 60  # seconds a person may spend on the ESIA side
KID_SCOPES = ("kid_fullname", "kid_birthdate", "kid_gender", "kid_snils")
STATE_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


@dataclass
class EsiaUpstream:
    """The ``Upstream`` implementation for real ESIA (test/prod) and the simulator."""

    client: EsiaClient
    verifier: TokenVerifier
    kek: bytes
    secure_cookies: bool
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=DEFAULT_TIMEOUT))
    name: str = "esia"
    # seconds for all of one callback's calls to ESIA (``esia_login_deadline``); None: only
    # the client's per-call timeouts
    deadline: float | None = None

    # --- start ---------------------------------------------------------------------------------

    def start(self, request: Request, txn_id: str) -> Response:
        """Redirect to ESIA's v2/ac with a fresh state bound to ``txn_id`` in a sealed cookie."""
        state = str(uuid.uuid4())
        verifier, challenge = pkce_pair()
        response = RedirectResponse(self.client.authorization_url(state, challenge), 302)
        sealed = self._seal(state, {"v": verifier, "t": txn_id, "at": int(time.time())})
        response.set_cookie(
            COOKIE_PREFIX + state,
            sealed,
            max_age=LOGIN_TTL,
            path=urlsplit(self.client.redirect_uri).path,
            secure=self.secure_cookies,
            httponly=True,
            samesite="lax",
        )
        return response

    def _seal(self, state: str, data: dict[str, Any]) -> str:
        blob = encrypt(self.kek, json.dumps(data).encode(), _aad(state))
        return base64.urlsafe_b64encode(blob).rstrip(b"=").decode()

    def _unseal(self, request: Request, state: str) -> dict[str, Any]:
        value = request.cookies.get(COOKIE_PREFIX + state) if _well_formed(state) else None
        if not value:
            raise EsiaError("esia.state_mismatch", description="no pending login for this state")
        try:
            blob = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            data = json.loads(decrypt(self.kek, blob, _aad(state)))
        except (InvalidTag, ValueError):
            raise EsiaError(
                "esia.state_mismatch", description="pending-login cookie invalid"
            ) from None
        if time.time() - data.get("at", 0) > LOGIN_TTL:
            raise EsiaError("esia.login_expired", txn_id=data.get("t"))
        return data

    # --- finish --------------------------------------------------------------------------------

    def finish(self, request: Request) -> tuple[str, UpstreamIdentity]:
        """Handle ``/login/esia/callback``; raise ``EsiaError`` with ESIA's code on any failure."""
        query = request.query_params
        state = query.get("state", "")
        if "error" in query:
            txn_id = self._txn_if_known(request, state)
            raise from_oauth_error(
                query.get("error"), query.get("error_description"), txn_id=txn_id
            )
        pending = self._unseal(request, state)
        txn_id = pending["t"]
        code = query.get("code")
        if not code:
            raise EsiaError("esia.no_code", txn_id=txn_id)
        try:
            with login_deadline(self.deadline):
                tokens = self.client.exchange_code(code, pending["v"])
                claims = self.verifier.verify(tokens["access_token"])
                identity = self._identity(tokens["access_token"], claims)
                identity = _with_authentication(
                    identity, tokens.get("id_token"), claims, self.client
                )
        except EsiaError as exc:
            exc.txn_id = txn_id
            raise
        return txn_id, identity

    def _txn_if_known(self, request: Request, state: str) -> str | None:
        try:
            return self._unseal(request, state)["t"]
        except EsiaError:
            return None

    def clear_cookie(self, response: Response, request: Request) -> None:
        """Drop the pending-login cookie after the callback (optional hygiene for the route)."""
        state = request.query_params.get("state", "")
        if _well_formed(state):
            path = urlsplit(self.client.redirect_uri).path
            response.delete_cookie(COOKIE_PREFIX + state, path=path)

    def logout_url(self, redirect_url: str | None = None) -> str:
        """ESIA's ``/idp/ext/Logout`` for RP-initiated logout (``redirect_url`` must be ours)."""
        return self.client.logout_url(redirect_url)

    # --- identity ------------------------------------------------------------------------------

    def _identity(self, access_token: str, claims: dict[str, Any]) -> UpstreamIdentity:
        oid = str(claims["urn:esia:sbj_id"])
        scopes = granted_scopes(claims)
        rest = EsiaRest(self.client.environment.base_url, access_token, self.http)
        embeds = []
        if scopes & {"email", "mobile", "contacts"}:
            embeds.append("contacts.elements")
        person = rest.person(oid, tuple(embeds))
        contacts = embedded(person, "contacts")
        children = tuple(_child(k) for k in rest.kids(oid)) if scopes & set(KID_SCOPES) else ()
        roles = tuple(_org_role(r) for r in rest.roles(oid)) if "usr_org" in scopes else ()
        return UpstreamIdentity(
            esia_oid=oid,
            last_name=str(person.get("lastName", "")),
            first_name=str(person.get("firstName", "")),
            middle_name=person.get("middleName") or None,
            birth_date=_date(person.get("birthDate")),
            gender=person.get("gender"),
            email=_contact(contacts, "EML"),
            phone=_contact(contacts, "MBT"),
            snils=person.get("snils"),
            trusted=bool(person.get("trusted")),
            children=children,
            organizations=roles,
            auth_method="PWD",
            raw_claims={k: v for k, v in claims.items() if k != "urn:esia:sid"},
        )


def _with_authentication(
    identity: UpstreamIdentity, id_token: Any, access_claims: dict[str, Any], client: EsiaClient
) -> UpstreamIdentity:
    """The method (``urn:esia:amd``) and time (``auth_time``) of the ESIA authentication, from
    the ID token of the same token response.

    The ID token came straight from ESIA's token endpoint over TLS together with the access
    token whose signature was verified, so its claims are taken without a second GOST
    verification (OIDC Core 3.1.3.7 item 6) — but only when it names the same subject and our
    client. Without a usable ID token the login keeps ``PWD`` at the callback's time."""
    claims = _jwt_claims(id_token) if isinstance(id_token, str) else None
    if not claims:
        return identity
    audience = claims.get("aud")
    if str(claims.get("sub")) != str(access_claims.get("urn:esia:sbj_id")) or audience not in (
        client.client_id,
        [client.client_id],
    ):
        return identity
    method = claims.get("urn:esia:amd") or claims.get("amr")
    if isinstance(method, list):
        method = method[0] if method else None
    auth_time = claims.get("auth_time")
    when = (
        datetime.fromtimestamp(auth_time, UTC)
        if isinstance(auth_time, int | float) and not isinstance(auth_time, bool)
        else None
    )
    return replace(
        identity,
        auth_method=str(method)[:16] if isinstance(method, str) and method else "PWD",
        auth_time=when,
    )


def _jwt_claims(token: str) -> dict[str, Any] | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def _well_formed(state: str) -> bool:
    """A state ``start`` could have made (a UUID4). Anything else matches no pending login and
    must not become part of a cookie name: ``http.cookies`` raises on names with spaces, ``;``,
    ``,``, ``(``…, which turned a hostile callback into a 500 instead of a state mismatch."""
    return STATE_RE.fullmatch(state) is not None


def _aad(state: str) -> bytes:
    return b"propusk:esia-login:" + state.encode()


def _date(value: Any) -> date | None:
    """ESIA dates are ``DD.MM.YYYY``."""
    try:
        return datetime.strptime(str(value), "%d.%m.%Y").date() if value else None
    except ValueError:
        return None


def _contact(contacts: list[dict[str, Any]], kind: str) -> str | None:
    """The first verified contact of the kind, else the first one."""
    matching = [c for c in contacts if c.get("type") == kind and c.get("value")]
    verified = [c for c in matching if c.get("vrfStu") == "VERIFIED"]
    chosen = (verified or matching or [None])[0]
    return chosen["value"] if chosen else None


def _child(kid: dict[str, Any]) -> UpstreamChild:
    return UpstreamChild(
        esia_oid=str(kid.get("oid", "")),
        last_name=str(kid.get("lastName", "")),
        first_name=str(kid.get("firstName", "")),
        middle_name=kid.get("middleName") or None,
        birth_date=_date(kid.get("birthDate")),
        gender=kid.get("gender"),
        snils=kid.get("snils"),
    )


def _org_role(role: dict[str, Any]) -> UpstreamOrgRole:
    return UpstreamOrgRole(
        org_oid=str(role.get("oid", "")),
        ogrn=role.get("ogrn"),
        name=str(role.get("shortName") or role.get("fullName") or ""),
        chief=bool(role.get("chief")),
        admin=bool(role.get("admin")),
        active=bool(role.get("active", True)),
    )


# --- construction ------------------------------------------------------------------------------


def esia_timeout(settings: Settings) -> httpx.Timeout:
    """How long a call to ESIA may wait (``esia_connect_timeout``, ``esia_timeout``): bounded,
    so a slow or unreachable ESIA fails a login with a clear page instead of hanging it."""
    return httpx.Timeout(settings.esia_timeout, connect=settings.esia_connect_timeout)


def environment_for(settings: Settings) -> EsiaEnvironment:
    if settings.upstream == "simulator" or settings.esia_env == "simulator":
        return simulator_environment(settings.esia_sim_base)
    return ENVIRONMENTS[settings.esia_env]


class _TrustedCertificates:
    """ESIA's certificates: configured files, else (simulator only) its published certificate."""

    def __init__(self, settings: Settings, environment: EsiaEnvironment, http: httpx.Client):
        self.paths = list(settings.esia_trusted_certs)
        self.environment = environment
        self.http = http
        self._keys: list[TrustedKey] | None = None

    def __call__(self) -> list[TrustedKey]:
        if self._keys is None:
            self._keys = self._load()
        return self._keys

    def _load(self) -> list[TrustedKey]:
        if self.paths:
            return [key for path in self.paths for key in load_trusted(Path(path))]
        if self.environment.name != "simulator":
            raise EsiaError("esia.misconfigured", description="PROPUSK_ESIA_TRUSTED_CERTS empty")
        try:
            response = self.http.get(self.environment.url("/public/cert.pem"))
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise transport_error(exc, "simulator certificate") from None
        return load_trusted(response.content)


def build_upstream(
    settings: Settings,
    *,
    signer: Signer | None = None,
    http: httpx.Client | None = None,
    clock: Callable[[], datetime] | None = None,
    key_dir: Path = DEV_DIR,
) -> EsiaUpstream:
    """The ESIA upstream for these settings (``upstream`` "esia" or "simulator").

    The signer defaults to pure-Python GOST over ``esia_key_path``/``esia_cert_path`` (dev
    material is generated outside production); pass ``OpenSSLSigner`` or another ``Signer``.
    """
    environment = environment_for(settings)
    if settings.env == "production" and environment.name == "simulator":
        raise RuntimeError("PROPUSK_ESIA_ENV must be 'test' or 'prod' in production")
    http = http or httpx.Client(timeout=esia_timeout(settings), transport=DeadlineTransport())
    if signer is None:
        signer = load_signer(*client_paths(settings, key_dir))
    extra = {"clock": clock} if clock else {}
    client = EsiaClient(
        environment=environment,
        client_id=settings.esia_client_id,
        signer=signer,
        redirect_uri=settings.issuer.rstrip("/") + CALLBACK_PATH,
        scope=settings.esia_scope,
        cert_hash=settings.esia_cert_hash,
        http=http,
        **extra,
    )
    trusted = _TrustedCertificates(settings, environment, http)
    verifier = TokenVerifier(trusted, environment.issuer, settings.esia_client_id, **extra)
    return EsiaUpstream(
        client=client,
        verifier=verifier,
        kek=settings.kek_bytes,
        secure_cookies=settings.issuer.startswith("https://"),
        http=http,
        deadline=settings.esia_login_deadline,
    )
