"""The ESIA OAuth client: v2/ac authorization URL, v3/te code exchange, logout (notes §1-3, §7).

``client_secret`` is the raw GOST signature (base64url, no padding) over the exact UTF-8
concatenation ``client_id + scope + scope_org + timestamp + state + redirect_uri [+ code]``;
``client_certificate_hash`` is the uppercase hex Streebog-256 of the DER certificate. The token
request carries a fresh ``state`` that ESIA must echo.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

import httpx

from idp.esia.errors import EsiaError, from_oauth_error, transport_error
from idp.esia.gost import Signer, certificate_hash

AC_PATH = "/aas/oauth2/v2/ac"
TE_PATH = "/aas/oauth2/v3/te"
LOGOUT_PATH = "/idp/ext/Logout"
CALLBACK_PATH = "/login/esia/callback"  # our redirect_uri path (route owned by idp.oidc)
TIMESTAMP_FORMAT = "%Y.%m.%d %H:%M:%S %z"


@dataclass(frozen=True)
class EsiaEnvironment:
    """Where ESIA lives and which ``iss`` its tokens carry (http, trailing slash: notes §1)."""

    name: str
    base_url: str
    issuer: str

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


ENVIRONMENTS = {
    "prod": EsiaEnvironment("prod", "https://esia.gosuslugi.ru", "http://esia.gosuslugi.ru/"),
    "test": EsiaEnvironment(
        "test",
        "https://esia-portal1.test.gosuslugi.ru",
        "http://esia-portal1.test.gosuslugi.ru/",
    ),
}


def simulator_environment(base_url: str) -> EsiaEnvironment:
    """The bundled simulator: its issuer is its base URL with a trailing slash."""
    base = base_url.rstrip("/")
    return EsiaEnvironment("simulator", base, base + "/")


def format_timestamp(moment: datetime) -> str:
    """``yyyy.MM.dd HH:mm:ss Z``, e.g. ``2026.11.25 14:36:11 +0000``."""
    if moment.tzinfo is None:
        raise ValueError("timestamp must be timezone-aware")
    return moment.strftime(TIMESTAMP_FORMAT)


def parse_timestamp(value: str) -> datetime:
    return datetime.strptime(value, TIMESTAMP_FORMAT)


def secret_payload(
    client_id: str,
    scope: str,
    timestamp: str,
    state: str,
    redirect_uri: str,
    code: str | None = None,
    scope_org: str = "",
) -> bytes:
    """The exact bytes ESIA verifies (notes §2.2): no separators, UTF-8."""
    return (
        client_id + scope + scope_org + timestamp + state + redirect_uri + (code or "")
    ).encode()


def encode_secret(signature: bytes) -> str:
    return base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def decode_secret(value: str) -> bytes:
    """Accept base64url with or without padding and standard base64 (clients differ, §2.2)."""
    text = value.strip().replace("+", "-").replace("/", "_").replace(" ", "-")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return b""


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    return verifier, pkce_challenge(verifier)


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# A client made without an ``http`` (tests, the CLI) waits as long as the settings' defaults.
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)


@dataclass
class EsiaClient:
    """One registered information system (мнемоника) talking to one ESIA environment."""

    environment: EsiaEnvironment
    client_id: str
    signer: Signer
    redirect_uri: str
    scope: str
    scope_org: str = ""
    cert_hash: str | None = None
    access_type: str = "online"
    http: httpx.Client | None = None
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    @cached_property
    def certificate_hash(self) -> str:
        return self.cert_hash or certificate_hash(self.signer.certificate_der)

    def _signed(self, state: str, code: str | None = None) -> dict[str, str]:
        timestamp = format_timestamp(self.clock())
        payload = secret_payload(
            self.client_id, self.scope, timestamp, state, self.redirect_uri, code, self.scope_org
        )
        params = {
            "client_id": self.client_id,
            "client_secret": encode_secret(self.signer.sign(payload)),
            "client_certificate_hash": self.certificate_hash,
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "timestamp": timestamp,
            "state": state,
        }
        if self.scope_org:
            params["scope_org"] = self.scope_org
        return params

    def authorization_url(self, state: str, code_challenge: str) -> str:
        params = self._signed(state)
        params.update(
            response_type="code",
            access_type=self.access_type,
            code_challenge=code_challenge,
            code_challenge_method="S256",
        )
        return self.environment.url(AC_PATH) + "?" + urlencode(params)

    def exchange_code(self, code: str, code_verifier: str) -> dict[str, Any]:
        """POST v3/te with a fresh state; return ESIA's JSON or raise ``EsiaError``."""
        state = str(uuid.uuid4())
        form = self._signed(state, code)
        form.update(
            grant_type="authorization_code",
            code=code,
            token_type="Bearer",
            code_verifier=code_verifier,
        )
        body = self._post(self.environment.url(TE_PATH), form)
        if body.get("state") != state:
            raise EsiaError("esia.state_mismatch", description="v3/te echoed another state")
        if not isinstance(body.get("access_token"), str):
            raise EsiaError("esia.bad_response", description="no access_token in v3/te answer")
        return body

    def _post(self, url: str, form: dict[str, str]) -> dict[str, Any]:
        http = self.http or httpx.Client(timeout=DEFAULT_TIMEOUT)
        try:
            response = http.post(url, data=form, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise transport_error(exc, "v3/te") from None
        finally:
            if self.http is None:
                http.close()
        try:
            body = response.json()
        except ValueError:
            raise EsiaError(
                "esia.bad_response", description=f"HTTP {response.status_code}, not JSON"
            ) from None
        if not isinstance(body, dict):
            raise EsiaError("esia.bad_response", description="v3/te answer is not an object")
        if response.status_code != 200 or "error" in body:
            raise from_oauth_error(body.get("error"), body.get("error_description"))
        return body

    def logout_url(self, redirect_url: str | None = None) -> str:
        """ESIA logout; note ``redirect_url`` (not ``redirect_uri``) and no signature (§7)."""
        params = {"client_id": self.client_id}
        if redirect_url:
            params["redirect_url"] = redirect_url
        return self.environment.url(LOGOUT_PATH) + "?" + urlencode(params)
