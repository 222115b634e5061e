"""The ESIA simulator's OAuth endpoints: authorization (``/aas/oauth2/v2/ac``) and token
(``/aas/oauth2/v3/te``), checked as ESIA checks them.

The client's GOST signature over the §2.2 concatenation, the certificate hash, timestamp
freshness, registered redirect URIs, PKCE, single-use codes and the fresh token-request state
are verified for real; failures answer with ESIA's error shapes (§6: redirected from v2/ac,
JSON from v3/te). Tokens are GOST-signed JWTs (§3); refresh tokens rotate.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from idp.esia import errors
from idp.esia.connector import decode_secret, parse_timestamp, pkce_challenge, secret_payload
from idp.esia.gost import verify_gost
from idp.esia.simulator import data as views
from idp.esia.simulator.config import RegisteredClient, SimulatorConfig
from idp.esia.simulator.pages import error_page, login_page
from idp.esia.simulator.state import Grant, Pending, SimulatorState, TokenGrant
from idp.esia.tokens import encode_gost_jwt

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
REFRESH_TTL = 30 * 24 * 3600


class EsiaFailure(Exception):
    """An ESIA error answer: redirected (v2/ac) or JSON (v3/te)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


def error_redirect(redirect_uri: str, code: str, state: str | None) -> RedirectResponse:
    """ESIA's error answer sent back to the client's redirect URI."""
    params = {
        "error": errors.oauth_error(code),
        "error_description": errors.error_description(code),
    }
    if state:
        params["state"] = state
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(redirect_uri + separator + urlencode(params), status_code=302)


def json_error(code: str, state: str | None, status: int = 400) -> JSONResponse:
    """ESIA's error answer at the token endpoint."""
    body = {
        "error": errors.oauth_error(code),
        "error_description": errors.error_description(code),
    }
    if state:
        body["state"] = state
    return JSONResponse(body, status_code=status)


def check_scope(scope: str) -> None:
    names = scope.split()
    if not names:
        raise EsiaFailure("ESIA-007013")
    unknown = [n for n in names if n not in views.KNOWN_SCOPES]
    if unknown:
        raise EsiaFailure("ESIA-007006", "unknown scope " + " ".join(unknown))


class Protocol:
    """The authorization and token endpoints over the shared in-memory state."""

    def __init__(self, config: SimulatorConfig, state: SimulatorState) -> None:
        self.config = config
        self.state = state

    # --- checks -----------------------------------------------------------------------------

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

    # --- authorization (v2/ac) ----------------------------------------------------------------

    async def authorize(self, request: Request) -> Response:
        params = dict(request.query_params)
        missing = [name for name in AC_REQUIRED if not params.get(name)]
        client = self.config.clients.get(params.get("client_id", ""))
        redirect_uri = params.get("redirect_uri", "")
        if client is None:
            code = "ESIA-007014" if "client_id" in missing else "ESIA-007002"
            return error_page(request, code)
        if not redirect_uri or not client.allows_redirect(redirect_uri):
            return error_page(request, "ESIA-007014" if not redirect_uri else "ESIA-007023")
        state = params.get("state")
        try:
            if missing:
                raise EsiaFailure("ESIA-007014", "missing " + ",".join(missing))
            if params["response_type"] != "code":
                raise EsiaFailure("ESIA-007012")
            check_scope(params["scope"])
            method = params.get("code_challenge_method", "S256")
            if params.get("code_challenge") and method != "S256":
                raise EsiaFailure("ESIA-007003", "code_challenge_method must be S256")
            await run_in_threadpool(self._check_signature, client, params, None)
        except EsiaFailure as failure:
            return error_redirect(redirect_uri, failure.code, state)
        rid = secrets.token_urlsafe(16)
        now = self.state.now()
        pending = Pending(
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            scope=params["scope"],
            scope_org=params.get("scope_org", ""),
            state=params["state"],
            code_challenge=params.get("code_challenge") or None,
            access_type=params.get("access_type", "online"),
            expires=now + self.config.code_ttl * 2,
        )
        with self.state.lock:
            self.state.prune(now)
            self.state.pending[rid] = pending
        return login_page(
            request,
            rid=rid,
            action=self.config.base_url.rstrip("/") + "/aas/oauth2/v2/ac",
            client_id=client.client_id,
            scopes=params["scope"].split(),
            people=self.config.data.listing(),
        )

    async def choose(self, request: Request) -> Response:
        """The login form: ``oid`` picks the demo person, ``deny`` refuses (ESIA-007004)."""
        form = await request.form()
        rid = str(form.get("rid", ""))
        with self.state.lock:
            pending = self.state.pending.pop(rid, None)
        if pending is None or pending.expires < self.state.now():
            return error_page(request, "ESIA-007003")
        if form.get("deny"):
            return error_redirect(pending.redirect_uri, "ESIA-007004", pending.state)
        oid = str(form.get("oid", ""))
        if self.config.data.person(oid) is None:
            return error_redirect(pending.redirect_uri, "ESIA-007003", pending.state)
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
            expires=self.state.now() + self.config.code_ttl,
        )
        with self.state.lock:
            self.state.codes[code] = grant
        separator = "&" if "?" in pending.redirect_uri else "?"
        query = urlencode({"code": code, "state": pending.state})
        return RedirectResponse(pending.redirect_uri + separator + query, status_code=302)

    # --- token (v3/te) ------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        try:
            form = await request.form()
        except Exception:  # malformed body: ESIA cannot read the parameters
            return json_error("ESIA-007038", None)
        params = {key: str(value) for key, value in form.items()}
        state = params.get("state")
        try:
            body = await run_in_threadpool(self._exchange, params)
        except EsiaFailure as failure:
            return json_error(failure.code, state)
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
        _check_grant(grant, params)
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
            if grant is None or grant.expires < self.state.now():
                raise EsiaFailure("ESIA-007011", "unknown or expired code")
            if grant.used:
                for token in grant.tokens:
                    self.state.tokens.pop(token, None)
                raise EsiaFailure("ESIA-007011", "code already used")
            grant.used = True
        return grant

    def _issue(self, grant: Grant) -> dict[str, Any]:
        """Access token (and id_token for ``openid``) signed with the simulator's GOST key."""
        config = self.config
        now = int(self.state.now()) + config.token_time_offset
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
                    grant, expires=self.state.now() + REFRESH_TTL
                )
        with self.state.lock:
            self.state.tokens[access_token] = TokenGrant(
                grant.client_id, grant.oid, set(names), self.state.now() + config.token_ttl
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


def _check_grant(grant: Grant, params: dict[str, str]) -> None:
    """The token request matches its code: client, redirect URI, scope, a fresh state, PKCE."""
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
