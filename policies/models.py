"""SQLAlchemy models of the policies package.

The reviewed default policy lives in ``policy.csv``; these tables hold what changes at run time:
rules added by platform admins, role links synced from idp statuses, and the change history
whose sequence number is the policy version.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from propusk.db import Base, UTCDateTime, new_id, utcnow


class PolicyRule(Base):
    """A ``p`` row added by a platform admin (on top of the file policy)."""

    __tablename__ = "policy_rules"
    __table_args__ = (
        UniqueConstraint("role", "domain", "obj", "act", "cond", name="uq_policy_rules_row"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    role: Mapped[str] = mapped_column(String(64))
    domain: Mapped[str] = mapped_column(String(100))
    obj: Mapped[str] = mapped_column(String(64))
    act: Mapped[str] = mapped_column(String(32))
    cond: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoleLink(Base):
    """A ``g`` row: subject holds role in domain. ``source`` separates status-derived links
    (replaced wholesale by idp) from links a platform admin granted by hand."""

    __tablename__ = "policy_role_links"
    __table_args__ = (
        UniqueConstraint("subject", "role", "domain", "source", name="uq_policy_role_links_row"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    subject: Mapped[str] = mapped_column(String(200), index=True)
    role: Mapped[str] = mapped_column(String(64))
    domain: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PolicyChange(Base):
    """One change of the policy; its ``version`` (a sequence) is the policy version."""

    __tablename__ = "policy_changes"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
