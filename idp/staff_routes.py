"""The staff of an operator organisation, appointed and ended by its head (``idp.org_staff``).

Every route names the organisation and is checked in domain ``org:{org_id}`` (``status``
read/write: ``operator_head`` of that organisation, same_org) before any lookup.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from idp import identity, org_staff
from idp.models import Status
from policies.service import authorize
from propusk.deps import SessionDep, SettingsDep, require
from propusk.errors import Forbidden, problems
from propusk.messages.names import STATUS_SOURCES
from propusk.security import Principal

router = APIRouter(prefix="/api/v1/organizations/{org_id}/staff", tags=["people"])
ORG = "org_id"


class StaffStatusOut(BaseModel):
    """A status held in the organisation, with the person's name (no other attribute)."""

    id: uuid.UUID
    person_name: str
    role: str = Field(description="operator_staff | operator_head")
    source: str = Field(description="esia | appointment")
    source_title: str
    valid_from: datetime
    revoked_at: datetime | None = None


class AppointIn(BaseModel):
    """The person to appoint, by SNILS (the head's HR file); never shown back."""

    model_config = ConfigDict(extra="forbid")

    snils: str = Field(min_length=11, max_length=14)


def _check(principal: Principal, org_id: uuid.UUID, act: str) -> None:
    """People only; the ``same_org`` condition on the organisation the path names."""
    if principal.person_id is None:
        raise Forbidden("the operator's head appoints staff in person", type="staff-only")
    authorize(
        principal, "status", act, domain=f"org:{org_id}", resource={"organization": f"org:{org_id}"}
    )


def _out(session, rows: list[Status]) -> list[StaffStatusOut]:
    people = {p.id: p for p in identity.get_people(session, [s.person_id for s in rows])}
    return [
        StaffStatusOut(
            id=s.id,
            person_name=identity.full_name(people[s.person_id]),
            role=s.role,
            source=s.source,
            source_title=STATUS_SOURCES.get(s.source, s.source),
            valid_from=s.valid_from,
            revoked_at=s.revoked_at,
        )
        for s in rows
        if s.person_id in people
    ]


@router.get("")
def list_staff(
    org_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("status", "read", domain_param=ORG),
) -> list[StaffStatusOut]:
    """The organisation's staff and heads, by name and where the status comes from."""
    _check(principal, org_id, "read")
    return _out(session, org_staff.staff_of(session, org_id))


@router.post("", status_code=201, responses=problems(400, 429))
def appoint_staff(
    org_id: uuid.UUID,
    body: AppointIn,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = require(
        "status", "write", domain_param=ORG, limit="rate_staff_appointments"
    ),
) -> StaffStatusOut:
    """The head appoints a person (by SNILS; they have logged in once) as staff (audited).
    Limited per head (``rate_staff_appointments``): a lookup by SNILS answers a name."""
    _check(principal, org_id, "write")
    status = org_staff.appoint(session, settings, org_id, body.snils, actor=principal.subject)
    return _out(session, [status])[0]


@router.delete("/{status_id}", responses=problems(409))
def end_staff(
    org_id: uuid.UUID,
    status_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("status", "write", domain_param=ORG),
) -> StaffStatusOut:
    """End an appointment (ESIA's statuses end only at ESIA: 409; audited)."""
    _check(principal, org_id, "write")
    status = org_staff.end(session, org_id, status_id, actor=principal.subject)
    return _out(session, [status])[0]
