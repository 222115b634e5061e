"""A per-process snapshot of the catalogue (categories and purposes) for the hot path.

The catalogue is a handful of rows that change rarely, yet every gate decision needs it; the
snapshot is re-read after ``TTL`` seconds, at once on a miss (a new key is seen immediately),
and after a local change. Consents are never cached: the gate reads them on every decision.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy.orm import Session

from consent import repository as repo

TTL = 5.0
# A vault value's size limit when its category sets none (compact JSON, UTF-8 bytes): room for
# a structured record, not for a file.
DEFAULT_MAX_BYTES = 64 * 1024


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


@dataclass(frozen=True)
class _Snapshot:
    at: float
    categories: dict[str, CategoryInfo]
    purposes: dict[str, PurposeInfo]


_lock = threading.Lock()
_snapshot: _Snapshot | None = None


def invalidate() -> None:
    global _snapshot
    with _lock:
        _snapshot = None


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
