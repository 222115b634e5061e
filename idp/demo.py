"""Demo seed for the identity provider (clients, people from the ESIA simulator fixture)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from propusk.settings import Settings


def seed(session: Session, settings: Settings) -> None:
    """Idempotent: safe to run on every ``make run``."""
