"""ESIA's JWTs: ``GOST3410_2012_256`` (raw ``s || r``, base64url) or ``RS256`` (esia-notes §3.1).

Verification accepts several ESIA certificates at once (ESIA rotates yearly and the IS chooses
RS256 or GOST on the tech portal), then checks ``iss``, ``client_id``/``aud``, ``exp``/``nbf``/
``iat`` with leeway and the integer subject ``urn:esia:sbj_id``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asn1crypto import pem
from cryptography import x509 as cx509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from idp.esia.errors import EsiaError
from idp.esia.gost import GostCertificate, GostError, Signer, load_certificate, verify_gost

ALG_GOST = "GOST3410_2012_256"
ALG_RS256 = "RS256"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_gost_jwt(header: dict[str, Any], claims: dict[str, Any], signer: Signer) -> str:
    """A compact JWS signed with GOST R 34.10-2012-256 as ESIA issues it."""
    header = {**header, "alg": ALG_GOST}
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    )
    return signing_input + "." + b64url(signer.sign(signing_input.encode()))


@dataclass(frozen=True)
class DecodedJwt:
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def decode_unverified(token: str) -> DecodedJwt:
    parts = token.split(".")
    if len(parts) != 3:
        raise EsiaError("esia.token_invalid", description="not a compact JWS")
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise EsiaError("esia.token_invalid", description="malformed JWS") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise EsiaError("esia.token_invalid", description="malformed JWS")
    return DecodedJwt(header, claims, (parts[0] + "." + parts[1]).encode(), signature)


TrustedKey = GostCertificate | rsa.RSAPublicKey


def load_trusted(source: bytes | str | Path) -> list[TrustedKey]:
    """ESIA certificates from a PEM bundle or a DER file: GOST or RSA, several per file."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    ders = [der for _, _, der in pem.unarmor(data, multiple=True)] if pem.detect(data) else [data]
    keys: list[TrustedKey] = []
    for der in ders:
        try:
            keys.append(load_certificate(der))
        except GostError:
            public = cx509.load_der_x509_certificate(der).public_key()
            if not isinstance(public, rsa.RSAPublicKey):
                raise GostError("an ESIA certificate must hold a GOST or RSA key") from None
            keys.append(public)
    return keys


def _signature_ok(jwt: DecodedJwt, trusted: Iterable[TrustedKey]) -> bool:
    alg = jwt.header.get("alg")
    for key in trusted:
        if alg == ALG_GOST and isinstance(key, GostCertificate):
            if verify_gost(key, jwt.signing_input, jwt.signature):
                return True
        elif alg == ALG_RS256 and isinstance(key, rsa.RSAPublicKey):
            try:
                key.verify(jwt.signature, jwt.signing_input, padding.PKCS1v15(), hashes.SHA256())
                return True
            except InvalidSignature:
                continue
    return False


@dataclass
class TokenVerifier:
    """Checks ESIA access tokens for one client against the trusted ESIA certificates."""

    trusted: Callable[[], list[TrustedKey]]
    issuer: str
    client_id: str
    leeway: int = 60
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def verify(self, token: str) -> dict[str, Any]:
        """Return the claims or raise ``EsiaError`` (never returns unverified data)."""
        jwt = decode_unverified(token)
        if jwt.header.get("alg") not in (ALG_GOST, ALG_RS256):
            raise EsiaError("esia.token_invalid", description=f"alg {jwt.header.get('alg')!r}")
        if not _signature_ok(jwt, self.trusted()):
            raise EsiaError("esia.token_invalid", description="signature does not verify")
        self._check_claims(jwt.claims)
        return jwt.claims

    def _check_claims(self, claims: dict[str, Any]) -> None:
        if claims.get("iss") != self.issuer:
            raise EsiaError("esia.token_claims", description=f"iss {claims.get('iss')!r}")
        audience = claims.get("client_id", claims.get("aud"))
        audiences = audience if isinstance(audience, list) else [audience]
        if self.client_id not in audiences:
            raise EsiaError("esia.token_claims", description="issued to another client")
        now = self.clock().timestamp()
        times = {name: claims.get(name) for name in ("exp", "nbf", "iat")}
        if not all(isinstance(value, int | float) for value in times.values()):
            raise EsiaError("esia.token_claims", description="exp/nbf/iat missing")
        if times["exp"] + self.leeway < now:
            raise EsiaError("esia.token_expired")
        if times["nbf"] - self.leeway > now or times["iat"] - self.leeway > now:
            raise EsiaError("esia.token_claims", description="token not yet valid")
        sbj = claims.get("urn:esia:sbj_id")
        if not isinstance(sbj, int) or isinstance(sbj, bool) or sbj <= 0:
            raise EsiaError("esia.token_claims", description="urn:esia:sbj_id missing")


def granted_scopes(claims: dict[str, Any]) -> set[str]:
    """Scope names from ``"fullname?oid=1000299681 openid ..."``."""
    return {item.split("?", 1)[0] for item in str(claims.get("scope", "")).split() if item}
