"""JWT access tokens (RFC 9068 profile) and ID tokens, signed with the service keys.

The resource server is Propusk's own API, so ``aud`` of an access token is the issuer URL.
A person's token has ``sub`` = person id; a client's (client_credentials) token has
``sub`` = ``client_id`` (RFC 9068 §2.2), which is how the principal resolver tells them apart.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from idp.oidc.keys import LoadedKey, b64url, encode_jws
from propusk.settings import Settings

ACCESS_TOKEN_TYP = "at+jwt"


def new_jti() -> str:
    return secrets.token_urlsafe(16)


def access_token(
    key: LoadedKey,
    settings: Settings,
    *,
    client_id: str,
    sub: str,
    scope: str,
    jti: str,
    extra: dict | None = None,
    now: int | None = None,
) -> str:
    now = now or int(time.time())
    claims = {
        "iss": settings.issuer,
        "sub": sub,
        "aud": settings.issuer,
        "client_id": client_id,
        "iat": now,
        "exp": now + settings.access_token_ttl,
        "jti": jti,
    }
    if scope:
        claims["scope"] = scope
    if extra:
        claims.update(extra)
    return encode_jws(key, claims, ACCESS_TOKEN_TYP)


def half_hash(value: str) -> str:
    """``at_hash``/``c_hash``: left half of SHA-256 (ES256 and RS256 both use SHA-256)."""
    digest = hashlib.sha256(value.encode()).digest()
    return b64url(digest[: len(digest) // 2])


def id_token(key: LoadedKey, settings: Settings, claims: dict) -> str:
    now = int(time.time())
    body = {"iss": settings.issuer, "iat": now, "exp": now + settings.id_token_ttl}
    body.update(claims)
    return encode_jws(key, body, "JWT")
