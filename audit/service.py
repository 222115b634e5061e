"""Audit log service: the one entry point other packages call to record an event.

PLACEHOLDER until issue 3 lands: same signature, records nothing yet.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


def record(
    session: Session,
    event_type: str,
    *,
    actor: str,
    subject: str | None = None,
    body: dict[str, Any] | None = None,
) -> None:
    """Append one event in the caller's transaction (no change without its event).

    ``actor``/``subject`` are principal strings (``person:<uuid>``, ``client:<id>``, ``system``);
    ``body`` is JSON with no secrets and no biometric data.
    """
