"""Policy API (platform admins): read, add/remove rules, grant roles, explain decisions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from policies import service
from policies.deps import require
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
from propusk.deps import SessionDep
from propusk.security import Principal

router = APIRouter(prefix="/api/v1/policy", tags=["policy"])


@router.get("", response_model=PolicyOut)
def read_policy(session: SessionDep, principal: Principal = require("policy", "read")) -> dict:
    return service.list_policy(session)


@router.get("/history", response_model=list[ChangeOut])
def read_history(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    principal: Principal = require("policy", "read"),
) -> list[dict]:
    return service.history(session, limit)


@router.post("/rules", response_model=RuleOut, status_code=201)
def add_rule(
    body: RuleIn, session: SessionDep, principal: Principal = require("policy", "write")
) -> dict:
    return service.add_rule(
        session,
        principal.subject,
        body.role,
        body.domain,
        body.object,
        body.action,
        body.condition,
    )


@router.delete("/rules/{rule_id}", status_code=204)
def remove_rule(
    rule_id: uuid.UUID, session: SessionDep, principal: Principal = require("policy", "write")
) -> Response:
    service.remove_rule(session, principal.subject, rule_id)
    return Response(status_code=204)


@router.get("/roles", response_model=list[RoleLinkOut])
def read_roles(
    subject: Annotated[str, Query(max_length=200)],
    session: SessionDep,
    principal: Principal = require("policy", "read"),
) -> list[dict]:
    return service.subject_roles(session, subject)


@router.post("/roles", response_model=VersionOut, status_code=201)
def grant_role(
    body: RoleGrantIn, session: SessionDep, principal: Principal = require("policy", "write")
) -> dict:
    version = service.grant_role(session, principal.subject, body.subject, body.role, body.domain)
    return {"version": version}


@router.delete("/roles", response_model=VersionOut)
def revoke_role(
    subject: Annotated[str, Query(max_length=200)],
    role: Annotated[str, Query(max_length=64)],
    domain: Annotated[str, Query(max_length=100)],
    session: SessionDep,
    principal: Principal = require("policy", "write"),
) -> dict:
    return {"version": service.revoke_role(session, principal.subject, subject, role, domain)}


@router.get("/explain", response_model=ExplainOut)
def explain(
    subject: Annotated[str, Query(max_length=200)],
    object: Annotated[str, Query(max_length=64)],
    action: Annotated[str, Query(max_length=32)],
    session: SessionDep,
    domain: Annotated[str, Query(max_length=100)] = "*",
    principal: Principal = require("policy", "explain"),
) -> dict:
    return service.explain(session, subject, domain, object, action).as_dict()
