"""The catalogue of data categories and purposes: loading it, requiring known keys, and a
per-process snapshot of it for the hot path.

Every template, request, transfer and demand names categories and a purpose by key; they must
be catalogued (an unknown key is a 422 naming it). The catalogue is a handful of rows that
change rarely, yet every gate decision needs it; the snapshot is re-read after ``TTL`` seconds,
at once on a miss (a new key is seen immediately), and after a local change. Consents are never
cached: the gate reads them on every decision.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from consent import repository as repo
from consent.models import Category, Purpose
from propusk import caches
from propusk.errors import ValidationProblem

TTL = 5.0
# A vault value's size limit when its category sets none (compact JSON, UTF-8 bytes): room for
# a structured record, not for a file.
DEFAULT_MAX_BYTES = 64 * 1024
CATALOGUE_FILE = Path(__file__).with_name("catalogue.json")
KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


@dataclass(frozen=True)
class CategoryInfo:
    key: str
    title: str
    special: bool
    biometric: bool
    encrypt: bool
    max_bytes: int = DEFAULT_MAX_BYTES


@dataclass(frozen=True)
class PurposeInfo:
    key: str
    title: str
    legal_basis: str
    dissemination: bool = False


# --- loading ------------------------------------------------------------------------------


def load_catalogue(session: Session, data: dict[str, Any] | None = None) -> tuple[int, int]:
    """Upsert categories and purposes (default: consent/catalogue.json)."""
    data = data or json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    for item in data.get("categories", []):
        _upsert_category(session, item)
    for item in data.get("purposes", []):
        _upsert_purpose(session, item)
    caches.after_commit(session, CATALOGUE.name)
    return len(data.get("categories", [])), len(data.get("purposes", []))


def _upsert_category(session: Session, item: dict[str, Any]) -> Category:
    if not KEY.fullmatch(item["key"]):
        raise ValidationProblem("a category key is dotted lower-case, e.g. person.fullname")
    row = repo.get_category(session, item["key"]) or Category(key=item["key"])
    row.title = item["title"]
    row.special = bool(item.get("special", False))
    row.biometric = bool(item.get("biometric", False))
    row.encrypt = bool(item.get("encrypt", False) or row.special or row.biometric)
    limit = item.get("max_bytes")
    if limit is not None and (type(limit) is not int or limit < 1):
        raise ValidationProblem("max_bytes is a positive number of bytes", type="bad-max-bytes")
    row.max_bytes = limit
    session.add(row)
    session.flush()
    return row


def _upsert_purpose(session: Session, item: dict[str, Any]) -> Purpose:
    if not KEY.fullmatch(item["key"]):
        raise ValidationProblem("a purpose key is dotted lower-case, e.g. attestation.online")
    row = repo.get_purpose(session, item["key"]) or Purpose(key=item["key"])
    row.title = item["title"]
    row.legal_basis = item["legal_basis"]
    row.dissemination = bool(item.get("dissemination", False))
    session.add(row)
    session.flush()
    return row


# --- known keys ---------------------------------------------------------------------------


def require_categories(session: Session, keys: Iterable[str]) -> dict[str, CategoryInfo]:
    """All keys must be catalogued; an unknown one is a 422 naming it."""
    keys = list(dict.fromkeys(keys))
    found = categories(session, keys)
    unknown = [k for k in keys if k not in found]
    if unknown:
        raise ValidationProblem(
            "unknown data categories: " + ", ".join(unknown),
            type="unknown-category",
            categories=unknown,
        )
    return found


def require_purpose(session: Session, key: str) -> PurposeInfo:
    found = purpose(session, key)
    if found is None:
        raise ValidationProblem(f"unknown purpose {key}", type="unknown-purpose")
    return found


# --- the snapshot -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Snapshot:
    at: float
    categories: dict[str, CategoryInfo]
    purposes: dict[str, PurposeInfo]


_lock = threading.Lock()
_snapshot: _Snapshot | None = None


CATALOGUE = caches.declare(
    caches.CacheSpec(
        "consent.catalogue",
        "-",
        f"{TTL:g} s (a key it does not know: re-read at once)",
        "data categories and purposes (every gate decision reads them)",
        "the catalogue loaded or changed (PUT /consent/catalogue, propusk consent catalogue)",
    )
)


def invalidate(_key: object = None) -> None:
    global _snapshot
    with _lock:
        _snapshot = None


caches.join(CATALOGUE.name, invalidate)


def _load(session: Session) -> _Snapshot:
    global _snapshot
    cats = {
        c.key: CategoryInfo(
            c.key, c.title, c.special, c.biometric, c.encrypt, c.max_bytes or DEFAULT_MAX_BYTES
        )
        for c in repo.all_categories(session)
    }
    purps = {
        p.key: PurposeInfo(p.key, p.title, p.legal_basis, p.dissemination)
        for p in repo.all_purposes(session)
    }
    snap = _Snapshot(time.monotonic(), cats, purps)
    with _lock:
        _snapshot = snap
    return snap


def _current(session: Session, need_cats=(), need_purpose: str | None = None) -> _Snapshot:
    snap = _snapshot
    if snap is None or time.monotonic() - snap.at > TTL:
        return _load(session)
    missing = any(k not in snap.categories for k in need_cats) or (
        need_purpose is not None and need_purpose not in snap.purposes
    )
    return _load(session) if missing else snap


def categories(session: Session, keys) -> dict[str, CategoryInfo]:
    """The known categories among ``keys`` (unknown ones are simply absent)."""
    keys = list(keys)
    snap = _current(session, need_cats=keys)
    return {k: snap.categories[k] for k in keys if k in snap.categories}


def purpose(session: Session, key: str) -> PurposeInfo | None:
    return _current(session, need_purpose=key).purposes.get(key)
