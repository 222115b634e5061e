"""The platform administrator's view of the log: its state, and ``audit verify`` on demand.

``status`` reads what the console shows at a glance (the tree's size, the newest signed
checkpoint and its age, the outbox backlog the sequencer has still to integrate).
``verify_now`` runs the very verification of ``propusk audit verify`` (``audit.verify``) in a
session of its own that is rolled back (the trusted verifier may create the signing key on a
fresh log: a request never persists it), bounded by a time budget so that a request cannot walk
a huge log for ever, and one at a time per process (a second request is told to wait).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from audit import checkpoint, repository
from audit.verify import Report, verify_log
from propusk.db import session_scope, utcnow
from propusk.errors import Problem
from propusk.settings import Settings

VERIFY_BUDGET_SECONDS = 20.0
_RUNNING = threading.Lock()


class VerificationRunning(Problem):
    status, type, title = 409, "audit-verify-running", "A verification is running"


def status(session: Session, now: datetime | None = None) -> dict[str, Any]:
    """The log's size, its newest signed checkpoint (size, time, age) and the outbox backlog."""
    now = now or utcnow()
    latest = checkpoint.latest_signed(session)
    size = repository.read_head(session)[0]
    return {
        "tree_size": size,
        "pending": repository.count_pending(session),
        "checkpoint_size": latest.tree_size if latest else None,
        "checkpoint_at": latest.created_at if latest else None,
        "checkpoint_age_seconds": (
            max(0, int((now - latest.created_at).total_seconds())) if latest else None
        ),
        "unsigned": size - (latest.tree_size if latest else 0),
    }


def verify_now(
    factory: sessionmaker[Session], settings: Settings, budget: float = VERIFY_BUDGET_SECONDS
) -> dict[str, Any]:
    """``audit verify`` within ``budget`` seconds: its report and the seconds it took (the
    answer of ``POST /api/v1/audit/verify``)."""
    if not _RUNNING.acquire(blocking=False):
        raise VerificationRunning("a verification of the log is running; wait for its result")
    try:
        started = time.monotonic()
        with session_scope(factory) as session:
            verifier = checkpoint.trusted_verifier(session, settings)
            report = verify_log(session, verifier, deadline=started + budget)
            session.rollback()  # read-only: never persist a key created by this run
        return _answer(report, time.monotonic() - started)
    finally:
        _RUNNING.release()


def _answer(report: Report, seconds: float) -> dict[str, Any]:
    found = report.divergence
    return {
        "ok": report.ok,
        "complete": report.complete,
        "checked": report.checked,
        "size": report.size,
        "checkpoints": report.checkpoints,
        "signed_size": report.signed_size,
        "unsigned": report.unsigned,
        "root_hash": report.root.hex() if report.ok and report.complete else None,
        "divergence": None if found is None else vars(found),
        "seconds": round(seconds, 3),
    }
