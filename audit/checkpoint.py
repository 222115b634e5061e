"""Signed checkpoints in the C2SP formats (tlog-checkpoint, signed-note) and the signing key.

A checkpoint note is ``<origin>\\n<size>\\n<base64 root>\\n`` plus one extension line with the
signing time, then a blank line and ``— <key name> <base64(key id || Ed25519 signature)>``.
The Ed25519 key is generated on first use and stored encrypted under the KEK; its verifier key
(``<name>+<hex key id>+<base64(0x01 || public key)>``) is what auditors pin.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy.orm import Session

from audit import merkle, repository
from audit.models import AuditCheckpoint, AuditKey
from propusk.crypto import decrypt, encrypt
from propusk.db import new_id, utcnow
from propusk.settings import Settings

ALG_ED25519 = b"\x01"
SIG_PREFIX = "\u2014 "  # em dash + space starts every signature line
TIME_EXT = "time "


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    @property
    def time(self) -> str | None:
        for line in self.extensions:
            if line.startswith(TIME_EXT):
                return line[len(TIME_EXT) :]
        return None


@dataclass(frozen=True)
class Verifier:
    name: str
    key_id: bytes
    public_key: Ed25519PublicKey


class NoteError(ValueError):
    """A checkpoint note that does not parse or whose signature does not verify."""


def origin_for(settings: Settings) -> str:
    """``<issuer host>/propusk/audit``: the log's identity inside every checkpoint."""
    parts = urlsplit(settings.issuer)
    return f"{parts.netloc or 'localhost'}{parts.path.rstrip('/')}/propusk/audit"


def key_id(name: str, public_raw: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ALG_ED25519 + public_raw).digest()[:4]


def vkey(name: str, public_raw: bytes) -> str:
    b64 = base64.b64encode(ALG_ED25519 + public_raw).decode()
    return f"{name}+{key_id(name, public_raw).hex()}+{b64}"


def parse_vkey(text: str) -> Verifier:
    try:
        name, hex_id, b64 = text.strip().split("+", 2)
        raw = base64.b64decode(b64, validate=True)
    except ValueError as exc:
        raise NoteError("malformed verifier key") from exc
    if raw[:1] != ALG_ED25519 or len(raw) != 33:
        raise NoteError("verifier key is not Ed25519")
    if key_id(name, raw[1:]) != bytes.fromhex(hex_id):
        raise NoteError("verifier key id does not match the key")
    return Verifier(name, bytes.fromhex(hex_id), Ed25519PublicKey.from_public_bytes(raw[1:]))


def checkpoint_body(origin: str, size: int, root: bytes, when: datetime | None = None) -> str:
    lines = [origin, str(size), base64.b64encode(root).decode()]
    if when is not None:
        lines.append(TIME_EXT + when.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return "\n".join(lines) + "\n"


def sign_note(body: str, name: str, private: Ed25519PrivateKey) -> str:
    public_raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    sig = private.sign(body.encode())
    return (
        f"{body}\n{SIG_PREFIX}{name} {base64.b64encode(key_id(name, public_raw) + sig).decode()}\n"
    )


def open_note(note: str, verifier: Verifier) -> Checkpoint:
    """Verify the note's signature by ``verifier`` and parse its checkpoint body."""
    body, sep, sigs = note.rpartition("\n\n")
    if not sep or not body:
        raise NoteError("note has no signature block")
    body += "\n"
    for line in sigs.splitlines():
        if not line.startswith(SIG_PREFIX):
            raise NoteError("malformed signature line")
        name, _, b64 = line[len(SIG_PREFIX) :].partition(" ")
        if name != verifier.name:
            continue
        try:
            raw = base64.b64decode(b64, validate=True)
        except ValueError as exc:
            raise NoteError("malformed signature") from exc
        if raw[:4] != verifier.key_id:
            continue
        try:
            verifier.public_key.verify(raw[4:], body.encode())
        except InvalidSignature as exc:
            raise NoteError("checkpoint signature does not verify") from exc
        return parse_body(body)
    raise NoteError("no signature by the expected key")


def parse_body(body: str) -> Checkpoint:
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("checkpoint body needs origin, size and root lines")
    origin, size, root, *ext = lines[:-1]
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise NoteError("checkpoint size is not a decimal number")
    try:
        root_raw = base64.b64decode(root, validate=True)
    except ValueError as exc:
        raise NoteError("checkpoint root is not base64") from exc
    if len(root_raw) != 32 or not origin:
        raise NoteError("malformed checkpoint")
    return Checkpoint(origin, int(size), root_raw, tuple(ext))


# --- the service's key and checkpoints (database-backed) ---


def _aad(name: str) -> bytes:
    return b"audit-key:" + name.encode()


def signing_key(session: Session, settings: Settings) -> tuple[str, Ed25519PrivateKey]:
    """The log's Ed25519 key: generated and stored (encrypted) on first use."""
    row = repository.first_key(session)
    if row is None:
        name = origin_for(settings)
        private = Ed25519PrivateKey.generate()
        raw = private.private_bytes_raw()
        repository.insert_key(
            session,
            {
                "id": new_id(),
                "name": name,
                "public_key": private.public_key().public_bytes_raw(),
                "private_enc": encrypt(settings.kek_bytes, raw, _aad(name)),
                "created_at": utcnow(),
            },
        )
        row = repository.first_key(session)
        assert row is not None
    return row.name, _private(row, settings)


def _private(row: AuditKey, settings: Settings) -> Ed25519PrivateKey:
    raw = decrypt(settings.kek_bytes, row.private_enc, _aad(row.name))
    private = Ed25519PrivateKey.from_private_bytes(raw)
    if private.public_key().public_bytes_raw() != row.public_key:
        raise NoteError("stored audit public key does not match its private key")
    return private


def trusted_verifier(session: Session, settings: Settings) -> Verifier:
    """The verifier derived from the private key (needs the KEK, so a database-only attacker
    cannot substitute a key of their own)."""
    name, private = signing_key(session, settings)
    return parse_vkey(vkey(name, private.public_key().public_bytes_raw()))


def verifier_key(session: Session, settings: Settings) -> str:
    name, private = signing_key(session, settings)
    return vkey(name, private.public_key().public_bytes_raw())


def latest(session: Session, settings: Settings, *, min_size: int = 0) -> AuditCheckpoint:
    """The latest signed checkpoint; signs a new one when the tree grew and the latest is older
    than ``audit_checkpoint_every`` seconds, or when it does not cover ``min_size`` leaves."""
    current = repository.latest_checkpoint(session)
    size, blob = repository.read_head(session)
    if current is not None and _fresh_enough(current, size, settings, min_size):
        return current
    return sign_checkpoint(session, settings, size, blob)


def _fresh_enough(cp: AuditCheckpoint, size: int, settings: Settings, min_size: int) -> bool:
    if cp.tree_size >= size:
        return True
    if cp.tree_size < min_size:
        return False
    age = utcnow() - cp.created_at
    return age < timedelta(seconds=max(settings.audit_checkpoint_every, 0))


def sign_checkpoint(
    session: Session, settings: Settings, size: int | None = None, blob: bytes | None = None
) -> AuditCheckpoint:
    """Sign the current tree head (idempotent per size: a concurrent signer's row wins)."""
    if size is None or blob is None:
        size, blob = repository.read_head(session)
    existing = repository.get_checkpoint(session, size)
    if existing is not None:
        return existing
    root = merkle.Frontier.from_bytes(size, blob).root()
    name, private = signing_key(session, settings)
    now = utcnow()
    note = sign_note(checkpoint_body(name, size, root, now), name, private)
    repository.insert_checkpoint(
        session,
        {"tree_size": size, "root_hash": root, "created_at": now, "key_name": name, "note": note},
    )
    row = repository.get_checkpoint(session, size)
    assert row is not None
    return row
