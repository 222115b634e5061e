"""Callers for kernel tests, through the kernel's hook ``app.state.principal_resolver``."""

from __future__ import annotations

import uuid

from propusk.security import Principal, RoleGrant

ADMIN_ROLES = (RoleGrant("authenticated", "*"), RoleGrant("platform_admin", "*"))


def act_as_platform_admin(app, person_id: uuid.UUID | None = None) -> Principal:
    """Every request of ``app`` comes from a platform admin in Propusk's own pages (a person
    row when ``person_id`` names one); returns the principal."""
    person_id = person_id or uuid.uuid4()
    admin = Principal(
        "person", f"person:{person_id}", person_id, roles=ADMIN_ROLES, channel="session"
    )
    app.state.principal_resolver = lambda request, session: admin
    return admin
