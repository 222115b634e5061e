"""Policy API (platform admins): read, add/remove rules, grant roles, explain decisions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from policies import service
from policies.schemas import (
    ChangeOut,
    ExplainOut,
    PolicyOut,
    RoleGrantIn,
    RoleLinkOut,
    RuleIn,
    RuleOut,
    VersionOut,
)
from propusk.deps import SessionDep, require
from propusk.errors import problems
from propusk.security import Principal

router = APIRouter(prefix="/api/v1/policy", tags=["policy"])


@router.get("", response_model=PolicyOut)
def read_policy(session: SessionDep, principal: Principal = require("policy", "read")) -> dict:
    """The whole policy: its version, the Casbin model, every rule (from the reviewed file and
    added by admins) and the number of stored role links."""
    return service.list_policy(session)


@router.get("/history", response_model=list[ChangeOut])
def read_history(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    principal: Principal = require("policy", "read"),
) -> list[dict]:
    """The latest policy changes, newest first: version, kind, actor, subject and detail."""
    return service.history(session, limit)


@router.post("/rules", response_model=RuleOut, status_code=201, responses=problems(400))
def add_rule(
    body: RuleIn, session: SessionDep, principal: Principal = require("policy", "write")
) -> dict:
    """Add a rule ``p, role, domain, object, action, condition`` (a new, audited version)."""
    return service.add_rule(
        session,
        principal.subject,
        body.role,
        body.domain,
        body.object,
        body.action,
        body.condition,
    )


@router.delete(
    "/rules/{rule_id}",
    status_code=204,
    responses={204: {"description": "The rule is removed (no body)."}},
)
def remove_rule(
    rule_id: uuid.UUID, session: SessionDep, principal: Principal = require("policy", "write")
) -> Response:
    """Remove a rule an admin added (rules of the reviewed file change by review only)."""
    service.remove_rule(session, principal.subject, rule_id)
    return Response(status_code=204)


@router.get("/roles", response_model=list[RoleLinkOut])
def read_roles(
    subject: Annotated[str, Query(max_length=200)],
    session: SessionDep,
    principal: Principal = require("policy", "read"),
) -> list[dict]:
    """The role links stored for a subject (``person:<id>`` or ``client:<id>``), whether
    derived from statuses or granted by an admin."""
    return service.subject_roles(session, subject)


@router.post("/roles", response_model=VersionOut, status_code=201, responses=problems(400))
def grant_role(
    body: RoleGrantIn, session: SessionDep, principal: Principal = require("policy", "write")
) -> dict:
    """Grant a role in a domain to a subject by hand; answers the new policy version."""
    version = service.grant_role(session, principal.subject, body.subject, body.role, body.domain)
    return {"version": version}


@router.delete("/roles", response_model=VersionOut, responses=problems(400))
def revoke_role(
    subject: Annotated[str, Query(max_length=200)],
    role: Annotated[str, Query(max_length=64)],
    domain: Annotated[str, Query(max_length=100)],
    session: SessionDep,
    principal: Principal = require("policy", "write"),
) -> dict:
    """Revoke a role an admin granted; answers the new policy version."""
    return {"version": service.revoke_role(session, principal.subject, subject, role, domain)}


@router.get("/explain", response_model=ExplainOut, responses=problems(400))
def explain(
    subject: Annotated[str, Query(max_length=200)],
    object: Annotated[str, Query(max_length=64)],
    action: Annotated[str, Query(max_length=32)],
    session: SessionDep,
    domain: Annotated[str, Query(max_length=100)] = "*",
    principal: Principal = require("policy", "explain"),
) -> dict:
    """Which rule allows ``subject`` to do ``action`` on ``object`` in ``domain``, through
    which domain and link, or that none does (with the domains tried)."""
    return service.explain(session, subject, domain, object, action).as_dict()
