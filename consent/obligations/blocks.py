"""Blocks: a subject's categories no one may transfer or process while an obligation holds them.

A rectification (art. 20 part 3, 21 parts 1–2), unlawful processing (art. 21 parts 1, 3) or a
deferred destruction (art. 21 part 6) blocks categories at once, for every operator or for one;
resolving the obligation lifts its blocks. The transfer gate and ``has_active_consent`` refuse
what ``blocked_categories`` returns.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from consent.models import Block, Obligation
from consent.obligations import repository as orepo


def block(
    session: Session, obligation: Obligation, operator_id: uuid.UUID | None, now: datetime
) -> None:
    """Block the obligation's categories of its subject (transfers refused while in force)."""
    session.add(
        Block(
            subject_id=obligation.subject_id,
            operator_id=operator_id,
            categories=list(obligation.categories),
            obligation_id=obligation.id,
            started_at=now,
        )
    )
    session.flush()


def lift(session: Session, obligation: Obligation, now: datetime) -> None:
    """Lift every block the obligation holds."""
    for row in orepo.blocks_of(session, obligation.id):
        row.lifted_at = now


def blocked_categories(
    session: Session, subject_id: uuid.UUID, now: datetime, operator_id: uuid.UUID | None = None
) -> set[str]:
    """The subject's categories under a block now (for the transfer gate: refuse them)."""
    return {
        c for b in orepo.active_blocks(session, subject_id, now, operator_id) for c in b.categories
    }
