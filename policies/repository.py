"""Queries of the policies package (the only place that builds them)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from policies.models import PolicyChange, PolicyRule, RoleLink
from propusk.db import is_postgres

NOTIFY_CHANNEL = "propusk_policy"


def list_rules(session: Session) -> list[PolicyRule]:
    return list(session.scalars(select(PolicyRule).order_by(PolicyRule.created_at, PolicyRule.id)))


def get_rule(session: Session, rule_id: uuid.UUID) -> PolicyRule | None:
    return session.get(PolicyRule, rule_id)


def find_rule(session: Session, row: tuple[str, str, str, str, str]) -> PolicyRule | None:
    role, domain, obj, act, cond = row
    return session.scalar(
        select(PolicyRule).where(
            PolicyRule.role == role,
            PolicyRule.domain == domain,
            PolicyRule.obj == obj,
            PolicyRule.act == act,
            PolicyRule.cond == cond,
        )
    )


def add_rule(session: Session, row: tuple[str, str, str, str, str], actor: str) -> PolicyRule:
    role, domain, obj, act, cond = row
    rule = PolicyRule(role=role, domain=domain, obj=obj, act=act, cond=cond, created_by=actor)
    session.add(rule)
    session.flush()
    return rule


def delete_rule(session: Session, rule: PolicyRule) -> None:
    session.delete(rule)
    session.flush()


def iter_links(session: Session, batch: int = 20_000) -> Iterator[tuple[str, str, str]]:
    """All (subject, role, domain) links, streamed: there may be hundreds of thousands."""
    stmt = select(RoleLink.subject, RoleLink.role, RoleLink.domain).execution_options(
        yield_per=batch
    )
    for row in session.execute(stmt):
        yield row[0], row[1], row[2]


def links_of(session: Session, subject: str) -> list[tuple[str, str, str]]:
    """Links of one subject as (role, domain, source)."""
    rows = session.execute(
        select(RoleLink.role, RoleLink.domain, RoleLink.source)
        .where(RoleLink.subject == subject)
        .order_by(RoleLink.domain, RoleLink.role)
    )
    return [(r[0], r[1], r[2]) for r in rows]


def replace_links(
    session: Session, subject: str, source: str, grants: Iterable[tuple[str, str]]
) -> None:
    session.execute(delete(RoleLink).where(RoleLink.subject == subject, RoleLink.source == source))
    session.add_all(
        RoleLink(subject=subject, role=role, domain=domain, source=source)
        for role, domain in sorted(set(grants))
    )
    session.flush()


def add_link(session: Session, subject: str, role: str, domain: str, source: str) -> bool:
    exists = session.scalar(
        select(RoleLink.id).where(
            RoleLink.subject == subject,
            RoleLink.role == role,
            RoleLink.domain == domain,
            RoleLink.source == source,
        )
    )
    if exists is not None:
        return False
    session.add(RoleLink(subject=subject, role=role, domain=domain, source=source))
    session.flush()
    return True


def remove_link(session: Session, subject: str, role: str, domain: str, source: str) -> bool:
    result = session.execute(
        delete(RoleLink).where(
            RoleLink.subject == subject,
            RoleLink.role == role,
            RoleLink.domain == domain,
            RoleLink.source == source,
        )
    )
    return bool(result.rowcount)


def count_links(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(RoleLink)) or 0


def record_change(
    session: Session, kind: str, actor: str, subject: str | None, detail: dict[str, Any]
) -> int:
    change = PolicyChange(kind=kind, actor=actor, subject=subject, detail=detail)
    session.add(change)
    session.flush()
    return change.version


def current_version(session: Session) -> int:
    return session.scalar(select(func.max(PolicyChange.version))) or 0


def fingerprint(session: Session) -> tuple[int, int]:
    """(highest version, number of changes): differs after any committed change, even one
    committed out of sequence order."""
    row = session.execute(select(func.max(PolicyChange.version), func.count())).one()
    return int(row[0] or 0), int(row[1] or 0)


def history(session: Session, limit: int = 100) -> list[PolicyChange]:
    return list(
        session.scalars(select(PolicyChange).order_by(PolicyChange.version.desc()).limit(limit))
    )


def changes_since(session: Session, version: int, limit: int = 1000) -> list[PolicyChange]:
    return list(
        session.scalars(
            select(PolicyChange)
            .where(PolicyChange.version > version)
            .order_by(PolicyChange.version)
            .limit(limit)
        )
    )


def notify(session: Session, payload: str) -> None:
    """Tell every instance (delivered by PostgreSQL at commit, never on rollback)."""
    if is_postgres(session):
        session.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": NOTIFY_CHANNEL, "payload": payload},
        )
