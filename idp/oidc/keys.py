"""Service signing keys: ES256 (default) and RS256, encrypted at rest, rotated, published.

``kid`` is the RFC 7638 thumbprint of the public key. Decrypted key objects are cached per
process by ``kid`` (a thumbprint cannot collide across databases), so signing costs one ECDSA
operation and no decryption. Compact JWS are built directly with ``cryptography``: the hot path
(client_credentials) signs one token per request and every microsecond counts there.

Keys are provisioned when the app starts (``provision``: idempotent, under a lock, so two
processes starting at once create one key per algorithm) or by ``propusk keys rotate``; no
request creates one (``current_key`` answers 503 ``signing-keys-missing`` until then).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy.orm import Session

from audit.service import record
from idp.oidc import repository as repo
from idp.oidc.models import SigningKey
from propusk import caches, crypto
from propusk.db import session_scope, utcnow
from propusk.errors import Problem
from propusk.settings import Settings

log = logging.getLogger("propusk.oidc")

SUPPORTED_ALGS = ("ES256", "RS256")
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


class InvalidJWS(Exception):
    """A token names an unknown or retired key, or its signature does not verify."""


class NoSigningKey(Problem):
    """No active key of an algorithm: keys are provisioned at app start-up (``provision``) or
    by ``propusk keys rotate``, never by the request that needs one."""

    status, type, title = 503, "signing-keys-missing", "Signing keys are not provisioned"


@dataclass(frozen=True)
class LoadedKey:
    """A decrypted signing key ready to sign (private) and verify (public)."""

    kid: str
    alg: str
    private: Any
    public: Any
    public_jwk: dict

    def sign(self, signing_input: bytes) -> bytes:
        if self.alg == "ES256":
            r, s = decode_dss_signature(self.private.sign(signing_input, _ECDSA_SHA256))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return self.private.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())

    def verify(self, signing_input: bytes, signature: bytes) -> bool:
        try:
            if self.alg == "ES256":
                if len(signature) != 64:
                    return False
                der = encode_dss_signature(
                    int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
                )
                self.public.verify(der, signing_input, _ECDSA_SHA256)
            else:
                self.public.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True


SIGNING_KEYS = caches.declare(
    caches.CacheSpec(
        "oidc.signing_keys",
        "-",
        "30 s (JWKS document, the token lane's key); a kid's retirement 5 s",
        "the current signing keys, the published JWKS, which kids are retired",
        "a key created, rotated or retired (the key generation moves on)",
    )
)
_loaded: dict[str, LoadedKey] = {}  # decrypted keys by kid (a kid's key never changes)
_generation = 0  # bumped by key changes (any instance: propusk.caches); caches compare it


def generation() -> int:
    return _generation


def _changed(_key: object = None) -> None:
    """After a key change commits: every cache built on the keys re-reads them."""
    global _generation
    _generation += 1
    _active_cache.clear()


caches.join(SIGNING_KEYS.name, _changed)


_lock = threading.Lock()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _aad(kid: str) -> bytes:
    return b"oidc-signing-key:" + kid.encode()


def _generate(alg: str):
    if alg == "ES256":
        return ECKey.generate_key("P-256", private=True)
    return RSAKey.generate_key(2048, private=True)


def create_key(session: Session, settings: Settings, alg: str) -> SigningKey:
    """Generate one key, store its PEM encrypted under the KEK (bound to its kid)."""
    if alg not in SUPPORTED_ALGS:
        raise ValueError(f"unsupported alg {alg}")
    jwk = _generate(alg)
    while jwk.thumbprint().startswith("-"):  # a leading "-" would read as a CLI option
        jwk = _generate(alg)
    kid = jwk.thumbprint()
    public = dict(jwk.as_dict(private=False), kid=kid, alg=alg, use="sig")
    pem = jwk.as_pem(private=True)
    row = SigningKey(
        kid=kid,
        alg=alg,
        private_enc=crypto.encrypt(settings.kek_bytes, pem, _aad(kid)),
        public_jwk=public,
        created_at=utcnow(),
    )
    repo.add(session, row)
    caches.after_commit(session, SIGNING_KEYS.name)
    return row


def ensure_keys(session: Session, settings: Settings) -> list[str]:
    """One active ES256 and one RS256 key; creates the missing ones and returns their kids.

    Idempotent and safe when several processes start at once: the check runs under a lock
    held until the caller's transaction ends, so a second provisioner sees the first's keys."""
    repo.lock_keys(session)
    have = {k.alg for k in repo.active_keys(session)}
    return [create_key(session, settings, alg).kid for alg in SUPPORTED_ALGS if alg not in have]


def provision(sessionmaker, settings: Settings) -> bool:
    """App start-up: ``ensure_keys`` in its own transaction; False (logged) if it failed."""
    try:
        with session_scope(sessionmaker) as session:
            created = ensure_keys(session, settings)
    except Exception:  # e.g. the database is down or unmigrated: the caller retries
        log.warning("signing keys not provisioned; retrying", exc_info=True)
        return False
    if created:
        log.info("signing keys provisioned: %s", ", ".join(created))
    return True


def rotate(session: Session, settings: Settings, *, actor: str = "system") -> list[str]:
    """Add a new key per algorithm and make it current; old keys keep verifying."""
    kids = [create_key(session, settings, alg).kid for alg in SUPPORTED_ALGS]
    record(session, "keys.rotated", actor=actor, body={"kids": kids})
    return kids


def retire(session: Session, kid: str, *, actor: str = "system") -> bool:
    """Stop publishing (and accepting) a key; refuses to retire the last key of its alg."""
    row = repo.get_key(session, kid)
    if row is None or row.retired_at is not None:
        return False
    siblings = [k for k in repo.active_keys(session) if k.alg == row.alg and k.kid != kid]
    if not siblings:
        raise ValueError(f"{kid} is the last active {row.alg} key; rotate first")
    row.retired_at = utcnow()
    _loaded.pop(kid, None)
    caches.after_commit(session, SIGNING_KEYS.name)
    record(session, "keys.retired", actor=actor, body={"kid": kid})
    return True


def load(settings: Settings, row: SigningKey) -> LoadedKey:
    """Decrypt once per process; later calls hit the cache."""
    cached = _loaded.get(row.kid)
    if cached is not None:
        return cached
    pem = crypto.decrypt(settings.kek_bytes, row.private_enc, _aad(row.kid))
    private = serialization.load_pem_private_key(pem, password=None)
    key = LoadedKey(row.kid, row.alg, private, private.public_key(), dict(row.public_jwk))
    with _lock:
        _loaded[row.kid] = key
    return key


def current_key(session: Session, settings: Settings, alg: str | None = None) -> LoadedKey:
    """The newest active key of ``alg`` (default: ``settings.signing_alg``)."""
    alg = alg or settings.signing_alg
    rows = [k for k in repo.active_keys(session) if k.alg == alg]
    if not rows:
        raise NoSigningKey(f"no active {alg} signing key; run `propusk keys rotate`")
    return load(settings, max(rows, key=lambda k: (k.created_at, k.kid)))


def public_jwks(session: Session) -> dict:
    """The JWKS document: every key not yet retired."""
    return {"keys": [dict(k.public_jwk) for k in repo.active_keys(session)]}


_header_segments: dict[tuple[str, str], bytes] = {}


def _header_segment(key: LoadedKey, typ: str) -> bytes:
    """The base64url protected header, constant per (key, typ): built once."""
    segment = _header_segments.get((key.kid, typ))
    if segment is None:
        header = {"alg": key.alg, "kid": key.kid, "typ": typ}
        segment = base64.urlsafe_b64encode(orjson.dumps(header)).rstrip(b"=")
        _header_segments[(key.kid, typ)] = segment
    return segment


def encode_jws(key: LoadedKey, payload: dict, typ: str) -> str:
    """Compact JWS with ``alg``, ``kid`` and ``typ`` in the protected header."""
    body = base64.urlsafe_b64encode(orjson.dumps(payload)).rstrip(b"=")
    signing_input = _header_segment(key, typ) + b"." + body
    signature = base64.urlsafe_b64encode(key.sign(signing_input)).rstrip(b"=")
    return (signing_input + b"." + signature).decode()


def sign_jws(session: Session, settings: Settings, payload: dict, typ: str) -> str:
    """Sign ``payload`` with the current ES256 service key (receipts, tickets, tokens)."""
    return encode_jws(current_key(session, settings, "ES256"), payload, typ)


def parse_jws(token: str) -> tuple[dict, dict, bytes, bytes]:
    """Split a compact JWS into (header, payload, signing_input, signature) or raise."""
    try:
        h, p, s = token.split(".")
        header = json.loads(b64url_decode(h))
        payload = json.loads(b64url_decode(p))
        signature = b64url_decode(s)
    except (ValueError, TypeError, RecursionError) as exc:  # deep nesting: not a token of ours
        raise InvalidJWS("malformed token") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise InvalidJWS("malformed token")
    return header, payload, f"{h}.{p}".encode(), signature


def verify_jws(session: Session, settings: Settings, token: str) -> tuple[dict, dict]:
    """Verify a compact JWS made with one of our active keys; return (header, payload)."""
    header, payload, signing_input, signature = parse_jws(token)
    kid, alg = header.get("kid"), header.get("alg")
    if alg not in SUPPORTED_ALGS or not isinstance(kid, str):
        raise InvalidJWS("unsupported alg or missing kid")
    key = _loaded.get(kid)
    if key is None:
        if len(kid) > 64 or not kid.isprintable():
            raise InvalidJWS("unknown kid")
        row = repo.get_key(session, kid)
        if row is None:
            raise InvalidJWS("unknown kid")
        key = load(settings, row)
    if key.alg != alg or not key.verify(signing_input, signature):
        raise InvalidJWS("bad signature")
    if not _still_active(session, key.kid):
        raise InvalidJWS("retired key")
    return header, payload


_active_cache: dict[str, tuple[float, bool]] = {}
ACTIVE_TTL = 5.0


def _still_active(session: Session, kid: str) -> bool:
    """Whether ``kid`` is not retired, re-read from the database at most every ACTIVE_TTL s."""
    now = time.monotonic()
    hit = _active_cache.get(kid)
    if hit is None or now - hit[0] > ACTIVE_TTL:
        row = repo.get_key(session, kid)
        hit = (now, row is not None and row.retired_at is None)
        _active_cache[kid] = hit
    return hit[1]
