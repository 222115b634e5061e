"""What an event may contain and the exact bytes it hashes to (the log's leaf format).

A leaf is the event as sorted-key compact JSON in UTF-8:
``{"actor","body","id","index","subject","time","type"}``, times as
``YYYY-MM-DDTHH:MM:SS.ffffffZ``. The outbox stores a body already encoded by ``encode_body``
and the sequencer splices that text into the leaf (``leaf_bytes``), so both append paths and
``audit.verify`` must agree on this one encoding: it lives here, apart from the service that
sequences events.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

# Keys that must never appear in an event body (secrets, identifiers, biometric data).
FORBIDDEN_BODY_KEYS = frozenset(
    {
        "password",
        "secret",
        "client_secret",
        "access_token",
        "refresh_token",
        "id_token",
        "snils",
        "embedding",
        "face_encoding",
        "encoding",
        "photo",
        "image",
        "frame",
    }
)
MAX_LABEL = 200
MAX_TYPE = 64
_SCALARS = (str, int, float, bool, type(None))


def format_time(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _jsonable(value: Any) -> Any:
    """Deterministic JSON forms for the few non-JSON types callers naturally pass."""
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return format_time(value) if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"audit body value of type {type(value).__name__} is not JSON")


# One encoder for all leaves (json.dumps with options builds a new encoder on every call).
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_jsonable
)


def encode_body(body: Mapping[str, Any] | None) -> str:
    """The body's canonical text: what the outbox stores and the leaf contains."""
    return _ENCODER.encode(dict(body or {}))


def leaf_bytes(
    index: int,
    event_id: uuid.UUID,
    event_type: str,
    actor: str,
    subject: str | None,
    time: str,
    body_text: str,
) -> bytes:
    """The leaf of an event whose body is already ``encode_body``'s text: the keys in sorted
    order, each value as the encoder writes it, without decoding the body and encoding it again
    on the sequencer's hot path."""
    enc = _ENCODER.encode
    return (
        f'{{"actor":{enc(actor)},"body":{body_text},"id":"{event_id}","index":{index:d},'
        f'"subject":{enc(subject)},"time":{enc(time)},"type":{enc(event_type)}}}'
    ).encode()


def _check_body(body: Any, path: str = "body") -> None:
    if type(body) in _SCALARS:
        return
    if isinstance(body, dict | Mapping):
        for key, value in body.items():
            if not isinstance(key, str):
                raise ValueError(f"{path}: keys must be strings")
            if key.lower() in FORBIDDEN_BODY_KEYS:
                raise ValueError(f"{path}.{key}: secrets and biometric data never go to audit")
            if type(value) not in _SCALARS:
                _check_body(value, f"{path}.{key}")
    elif isinstance(body, list | tuple):
        for i, value in enumerate(body):
            _check_body(value, f"{path}[{i}]")


def check_event(
    event_type: str, actor: str, subject: str | None, body: Mapping[str, Any] | None
) -> None:
    """Refuse (ValueError) labels out of bounds and bodies with secrets or non-string keys."""
    if not event_type or len(event_type) > MAX_TYPE:
        raise ValueError("event_type must be 1..64 characters")
    if not actor or len(actor) > MAX_LABEL:
        raise ValueError("actor must be 1..200 characters")
    if subject is not None and len(subject) > MAX_LABEL:
        raise ValueError("subject must be at most 200 characters")
    _check_body(body or {})
