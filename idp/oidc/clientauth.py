"""Client authentication at the token, introspection and revocation endpoints.

By secret — the one check the token fast lane and Authlib both run: ``client_secret_basic`` and
``client_secret_post`` are registered as Authlib's methods with these functions (``register``),
and ``idp.oidc.fastpath`` calls the same ``check_secret`` and ``basic_credentials`` for the
client_credentials lane, so a client is authenticated the same way whichever path serves its
request (a test compares them). By signed assertion — ``PrivateKeyJWT``: Authlib's RFC 7523
verification with our limits (asymmetric algorithms, short-lived, each ``jti`` used once).
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import unquote

import httpx
from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from joserfc.jwk import KeySet
from sqlalchemy.exc import IntegrityError

from idp.oidc import repository as repo
from idp.oidc.clients import SECRET_METHODS, ClientInfo
from idp.oidc.models import UsedAssertion
from propusk import caches
from propusk.crypto import token_hash
from propusk.db import utcnow
from propusk.ratelimit import RateLimiter, parse_rule, peer_key

ASSERTION_ALGS = ("ES256", "ES384", "RS256", "PS256", "EdDSA")
MAX_ASSERTION_LIFETIME = 300  # seconds; a longer-lived assertion is a replayable credential
JWKS_CACHE_SECONDS = 300
CLIENT_JWKS = caches.declare(
    caches.CacheSpec(
        "oidc.client_jwks",
        "jwks_uri",
        f"{JWKS_CACHE_SECONDS} s",
        "a private_key_jwt client's public keys fetched from its jwks_uri",
        "nothing: the client's keys are fetched again after the TTL",
    )
)


def basic_credentials(header: str | None) -> tuple[str, str] | bool | None:
    """(client_id, secret) from ``Authorization: Basic``; None if absent; False if malformed.

    RFC 6749 §2.3.1: both are form-urlencoded before the base64 step."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return False
    return unquote(client_id), unquote(secret)


def check_secret(client: ClientInfo | None, method: str, secret: object) -> ClientInfo | None:
    """The client if it exists, is registered for ``method`` and ``secret`` is its secret."""
    if client is None or method not in SECRET_METHODS or client.auth_method != method:
        return None
    return client if client.check_client_secret(secret) else None


QueryClient = Callable[[str], ClientInfo | None]


def _basic(query_client: QueryClient, request) -> ClientInfo | None:
    credentials = basic_credentials(request.headers.get("authorization"))
    if credentials is False:
        raise InvalidClientError(status_code=401, description="Malformed Basic credentials")
    if not credentials:
        return None
    client_id, secret = credentials
    return check_secret(query_client(client_id), "client_secret_basic", secret)


def _post(query_client: QueryClient, request) -> ClientInfo | None:
    client_id, secret = request.form.get("client_id"), request.form.get("client_secret")
    if not client_id or not secret:
        return None
    return check_secret(query_client(client_id), "client_secret_post", secret)


# -- private_key_jwt ------------------------------------------------------------------------
class PrivateKeyJWT(JWTBearerClientAssertion):
    """RFC 7523 client assertions: asymmetric algs only, audience = us, ``jti`` used once.

    ``server`` is the request's authorization server (its ``session`` and ``settings``)."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, server) -> None:
        super().__init__(validate_jti=True, leeway=30)
        self.server = server

    def get_audiences(self) -> list[str]:
        issuer = self.server.settings.issuer.rstrip("/")
        return [issuer, issuer + "/", issuer + "/oauth2/token"]

    def extract_assertion(self, assertion: str):
        headers, claims = super().extract_assertion(assertion)
        if headers.get("alg") not in ASSERTION_ALGS:
            raise InvalidClientError(description="Client assertion alg must be asymmetric")
        return headers, claims

    def verify_claims(self, claims):
        super().verify_claims(claims)
        _short_lived(claims)
        self._claims = claims

    def validate_jti(self, claims, jti) -> bool:
        session = self.server.session
        jti_hash = token_hash(f"{claims['sub']}:{jti}")
        if repo.assertion_seen(session, jti_hash):
            return False
        exp = claims.get("exp")
        expires_at = (
            utcnow() + timedelta(seconds=max(0, int(exp - time.time())) + 60)
            if isinstance(exp, int | float)
            else utcnow() + timedelta(hours=1)
        )
        try:
            with session.begin_nested():
                session.add(
                    UsedAssertion(jti_hash=jti_hash, client_id=claims["sub"], expires_at=expires_at)
                )
        except IntegrityError:
            return False
        return True

    def resolve_client_public_key(self, client):
        jwks = client.jwks
        if jwks is None and client.jwks_uri:
            jwks = fetch_jwks(client.jwks_uri)
        if not jwks:
            raise InvalidClientError(description="The client has no public keys")
        public = [
            {k: v for k, v in key.items() if k not in ("d", "p", "q", "dp", "dq", "qi", "k")}
            for key in jwks.get("keys", [])
            if key.get("kty") in ("EC", "RSA", "OKP")
        ]
        try:
            return KeySet.import_key_set({"keys": public})
        except Exception as exc:  # malformed registered JWKS
            raise InvalidClientError(description="The client's JWKS is invalid") from exc

    def __call__(self, query_client, request):
        try:
            return super().__call__(query_client, request)
        except (ValueError, TypeError, KeyError, RecursionError) as exc:
            raise InvalidClientError(description="Invalid client assertion") from exc


def _short_lived(claims) -> None:
    """A client assertion lives at most ``MAX_ASSERTION_LIFETIME`` seconds: counted from its
    ``iat`` (when given) and from now, so neither a long ``exp - iat`` nor an ``exp`` far ahead
    passes."""
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise InvalidClientError(description="Client assertion lacks exp")
    if exp - time.time() > MAX_ASSERTION_LIFETIME:
        raise InvalidClientError(description="Client assertion lives too long (max 300 s)")
    numeric_iat = isinstance(iat, int | float) and not isinstance(iat, bool)
    if numeric_iat and exp - iat > MAX_ASSERTION_LIFETIME:
        raise InvalidClientError(description="Client assertion lives too long (max 300 s)")


_jwks_cache: dict[str, tuple[float, dict]] = {}


def fetch_jwks(uri: str) -> dict:
    """A client's JWKS by URI, cached for five minutes."""
    hit = _jwks_cache.get(uri)
    if hit and time.monotonic() - hit[0] < JWKS_CACHE_SECONDS:
        return hit[1]
    try:
        data = httpx.get(uri, timeout=5).json()
    except (httpx.HTTPError, ValueError) as exc:
        raise InvalidClientError(description="Could not fetch the client's jwks_uri") from exc
    _jwks_cache[uri] = (time.monotonic(), data)
    return data


def register(server) -> None:
    """Make these the client authentication methods of an Authlib ``AuthorizationServer``."""
    server.register_client_auth_method("client_secret_basic", _basic)
    server.register_client_auth_method("client_secret_post", _post)
    server.register_client_auth_method("private_key_jwt", PrivateKeyJWT(server))


class AuthFailures:
    """Limits on failed client authentications, the one check the token lane and the routes
    (token, introspection, revocation) share.

    Per IP, refused *before* the secret is checked: a peer that failed too often waits. Per
    client, a wrong secret over the limit is answered 429 instead of 401 but a right one still
    passes: a per-client lockout would hand anyone who knows a client_id a way to cut an
    operator off, and secrets (256 bits) are not guessed. The refusals of this process are
    remembered locally until they expire, so the hot path asks Redis only when a request has
    already failed.
    """

    def __init__(self, limiter: RateLimiter, settings) -> None:
        self.limiter = limiter
        self.per_client = parse_rule("oauth-client-auth", settings.rate_client_auth_failures)
        self.per_ip = parse_rule("oauth-client-auth-ip", settings.rate_client_auth_failures_ip)
        self._blocked: dict[str, float] = {}

    def refused(self, peer: str | None) -> int | None:
        """Seconds the peer must still wait (None: go on). No network: a dictionary lookup."""
        if not self._blocked:  # the usual case: nobody blocked, nothing to parse
            return None
        peer = peer_key(peer)
        until = self._blocked.get(peer or "")
        if until is None:
            return None
        left = until - time.monotonic()
        if left <= 0:
            self._blocked.pop(peer or "", None)
            return None
        return max(1, int(left + 0.999))

    def failed(self, client_id: str | None, peer: str | None) -> int | None:
        """Count one failure; the seconds to wait when it went over a limit (answer 429)."""
        waits = []
        peer = peer_key(peer)
        if peer:
            verdict = self.limiter.take(self.per_ip, peer)
            if not verdict.allowed:
                self._block(peer, verdict.retry_after)
                waits.append(verdict.retry_after)
        if client_id:
            verdict = self.limiter.take(self.per_client, client_id[:200])
            if not verdict.allowed:
                waits.append(verdict.retry_after)
        return max(waits) if waits else None

    def _block(self, peer: str, seconds: int) -> None:
        if len(self._blocked) > 10_000:  # bounded: expired entries go first
            now = time.monotonic()
            self._blocked = {k: v for k, v in self._blocked.items() if v > now}
        self._blocked[peer] = time.monotonic() + seconds


def attempted_client_id(authorization: str | None, form: dict) -> str | None:
    """The client a request claims to be (Basic user, else the form's ``client_id``), for the
    failure limits; None when it names none or the header is malformed."""
    basic = basic_credentials(authorization)
    if basic:
        return basic[0]
    value = form.get("client_id")
    return value if isinstance(value, str) and value else None
