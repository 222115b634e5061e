"""Encryption at rest: AES-256-GCM under the key-encryption key from settings.

Blobs are ``version(1) || nonce(12) || ciphertext+tag``; the associated data binds a blob to
its purpose and row (e.g. ``b"template:" + person_id``) so a blob copied to another row fails.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"\x01"


def encrypt(kek: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    nonce = os.urandom(12)
    return _VERSION + nonce + AESGCM(kek).encrypt(nonce, plaintext, aad)


def decrypt(kek: bytes, blob: bytes, aad: bytes = b"") -> bytes:
    if blob[:1] != _VERSION:
        raise ValueError("unknown ciphertext version")
    return AESGCM(kek).decrypt(blob[1:13], blob[13:], aad)


def lookup_hash(kek: bytes, purpose: str, value: str) -> str:
    """A keyed hash for exact-match lookups of encrypted values (e.g. SNILS)."""
    key = hmac.new(kek, b"lookup:" + purpose.encode(), hashlib.sha256).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    """SHA-256 of a high-entropy token or secret; fast by design (tokens are random)."""
    return hashlib.sha256(token.encode()).hexdigest()
