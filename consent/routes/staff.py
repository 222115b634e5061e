"""Routes of the operator staff's console (``/operator/{org_id}``): the people who work for an
operator organisation (``operator_staff`` in ``org:<id>``, from ESIA or appointed by its head)
read its templates, requests, withdrawals, destruction tasks and transfer statistics, publish
template versions, acknowledge withdrawals and confirm destruction.

Every route names the organisation in its path and is checked in domain ``org:{org_id}``
before any lookup (``domain_param``), so another operator's staff get 403 whatever the ids; the
organisation's rows are then loaded for that operator only (another operator's id → 404), and
the policy's ``same_org`` condition is checked on the organisation loaded. The acts call the
operator client's own services (one check, one audit trail). People only: an OAuth client keeps
its own routes (``consent.routes.operators``, ``registry``).
"""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from consent import parties
from consent.console import service as console
from consent.models import STATES
from consent.parties import Party
from consent.schemas.base import Answer, OrganizationRefOut, organization_ref
from consent.schemas.console import (
    StaffConsentsOut,
    StaffDeferIn,
    StaffTasksOut,
    StaffTemplateOut,
    StaffTemplatesOut,
    TransferStatsOut,
    WithdrawalOut,
    WithdrawalsOut,
    staff_consents_out,
    staff_tasks_out,
    staff_template_out,
    transfer_stats_out,
    withdrawal_out,
)
from consent.schemas.registry import TemplateIn
from policies.service import authorize, decide
from propusk.db import utcnow
from propusk.deps import SessionDep, require
from propusk.errors import Forbidden, problems
from propusk.security import Principal

router = APIRouter(prefix="/api/v1/operators/{org_id}", tags=["operator console"])
State = Literal[STATES]  # type: ignore[valid-type]
ORG = "org_id"


def _operator(
    session: Session, principal: Principal, org_id: uuid.UUID, obj: str, act: str
) -> Party:
    """The operator the path names, for a person (its staff): 403 ``staff-only`` for a client,
    ``not-operator`` for an organisation that is not a registered operator; the ``same_org``
    condition on the organisation itself."""
    if principal.person_id is None:
        raise Forbidden("the operator's console is for its staff", type="staff-only")
    operator = parties.organization_of(session, org_id, "operator")
    authorize(
        principal, obj, act, domain=f"org:{org_id}", resource={"organization": f"org:{operator.id}"}
    )
    return operator


class ConsoleOut(Answer):
    """The organisation and what the caller may do in its console (to show or hide sections)."""

    organization: OrganizationRefOut
    registry_number: str
    can_publish: bool
    can_acknowledge: bool
    can_destroy: bool
    can_appoint: bool


@router.get("")
def console_home(
    org_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("consent.template", "read", domain_param=ORG),
) -> ConsoleOut:
    """The operator organisation (name, ИНН, ОГРН) and the caller's permissions in it."""
    operator = _operator(session, principal, org_id, "consent.template", "read")
    domain = f"org:{org_id}"
    resource = {"organization": domain}

    def may(obj: str, act: str) -> bool:
        return decide(principal, obj, act, domain=domain, resource=resource).allowed

    ref = organization_ref(operator)
    assert ref is not None
    return ConsoleOut(
        organization=ref,
        registry_number=operator.registry_number,
        can_publish=may("consent.template", "publish"),
        can_acknowledge=may("consent.feed", "acknowledge"),
        can_destroy=may("destruction", "confirm"),
        can_appoint=may("status", "write"),
    )


# --- templates --------------------------------------------------------------------------------


@router.get("/templates")
def list_templates(
    org_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("consent.template", "read", domain_param=ORG),
) -> StaffTemplatesOut:
    """Every published version of the organisation's templates (newest version first)."""
    operator = _operator(session, principal, org_id, "consent.template", "read")
    rows, names = console.templates_of(session, operator)
    return StaffTemplatesOut(templates=[staff_template_out(t, names) for t in rows])


@router.get("/templates/{template_id}")
def get_template(
    org_id: uuid.UUID,
    template_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("consent.template", "read", domain_param=ORG),
) -> StaffTemplateOut:
    """One version of the organisation's template (another operator's: 404)."""
    operator = _operator(session, principal, org_id, "consent.template", "read")
    return staff_template_out(*console.template_of(session, operator, template_id))


@router.post("/templates", status_code=201, responses=problems(400))
def publish_template(
    org_id: uuid.UUID,
    body: TemplateIn,
    session: SessionDep,
    principal: Principal = require("consent.template", "publish", domain_param=ORG),
) -> StaffTemplateOut:
    """Publish the next version of a template: checked as the operator client's
    ``POST /consent/templates`` (every art. 9 part 4 element; audited)."""
    operator = _operator(session, principal, org_id, "consent.template", "publish")
    template = console.publish(session, operator, body.model_dump(), actor=principal.subject)
    return staff_template_out(*console.template_of(session, operator, template.id))


# --- requests -------------------------------------------------------------------------------


@router.get("/consents")
def list_consents(
    org_id: uuid.UUID,
    session: SessionDep,
    state: list[State] = Query(default=[], max_length=len(STATES)),
    offset: int = Query(0, ge=0, le=1_000_000),
    limit: int = Query(50, ge=1, le=200),
    principal: Principal = require("consent.request", "read", domain_param=ORG),
) -> StaffConsentsOut:
    """The organisation's consents and requests, newest first, filtered by state; the subject
    by name only."""
    operator = _operator(session, principal, org_id, "consent.request", "read")
    page = console.consents_page(session, operator, list(state), offset, limit)
    return staff_consents_out(page, offset, limit)


# --- withdrawals ----------------------------------------------------------------------------


@router.get("/withdrawals")
def list_withdrawals(
    org_id: uuid.UUID,
    session: SessionDep,
    pending: bool = Query(False, description="only those not acknowledged yet"),
    offset: int = Query(0, ge=0, le=1_000_000),
    limit: int = Query(50, ge=1, le=200),
    principal: Principal = require("consent.feed", "read", domain_param=ORG),
) -> WithdrawalsOut:
    """Withdrawals and demands to stop processing, newest first, with acknowledgements."""
    operator = _operator(session, principal, org_id, "consent.feed", "read")
    feed = console.stop_feed(session, operator, pending, offset, limit)
    return WithdrawalsOut(
        withdrawals=[withdrawal_out(e, a, feed) for e, a in feed.rows],
        total=feed.total,
        offset=offset,
        limit=limit,
    )


@router.post("/withdrawals/{event_id}/acknowledge", responses=problems(409))
def acknowledge_withdrawal(
    org_id: uuid.UUID,
    event_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("consent.feed", "acknowledge", domain_param=ORG),
) -> WithdrawalOut:
    """The operator has stopped processing after this withdrawal (who and when; audited)."""
    operator = _operator(session, principal, org_id, "consent.feed", "acknowledge")
    event, ack = console.acknowledge(
        session, operator, event_id, actor=principal.subject, now=utcnow()
    )
    feed = console.stop_feed_of(session, [(event, ack)], 1)
    return withdrawal_out(event, ack, feed)


# --- destruction ----------------------------------------------------------------------------


@router.get("/destruction")
def list_destruction(
    org_id: uuid.UUID,
    session: SessionDep,
    open_only: bool = Query(True, alias="open", description="only tasks not confirmed yet"),
    principal: Principal = require("destruction", "read", domain_param=ORG),
) -> StaffTasksOut:
    """The organisation's destruction tasks, by deadline (Moscow days), overdue marked."""
    operator = _operator(session, principal, org_id, "destruction", "read")
    found = console.destruction_tasks(session, operator, open_only, utcnow())
    return StaffTasksOut(tasks=staff_tasks_out(found), today=found.today.isoformat())


@router.post("/destruction/{task_id}/confirm", responses=problems(409))
def confirm_destruction(
    org_id: uuid.UUID,
    task_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("destruction", "confirm", domain_param=ORG),
) -> StaffTasksOut:
    """The operator destroyed the task's data (the client route's service; once; audited)."""
    operator = _operator(session, principal, org_id, "destruction", "confirm")
    found = console.confirm(session, operator, task_id, actor=principal.subject, now=utcnow())
    return StaffTasksOut(tasks=staff_tasks_out(found), today=found.today.isoformat())


@router.post("/destruction/{task_id}/impossible", status_code=201, responses=problems(400, 409))
def defer_destruction(
    org_id: uuid.UUID,
    task_id: uuid.UUID,
    body: StaffDeferIn,
    session: SessionDep,
    principal: Principal = require("destruction", "defer", domain_param=ORG),
) -> StaffTasksOut:
    """Check 13: destruction within 30 days impossible — the data are blocked and destroyed
    within 6 months (the client route's service)."""
    operator = _operator(session, principal, org_id, "destruction", "defer")
    found = console.defer(
        session, operator, task_id, reason=body.reason, actor=principal.subject, now=utcnow()
    )
    return StaffTasksOut(tasks=staff_tasks_out(found), today=found.today.isoformat())


# --- statistics -----------------------------------------------------------------------------


@router.get("/transfers/stats")
def transfer_stats(
    org_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("transfer.stats", "read", domain_param=ORG),
) -> TransferStatsOut:
    """Transfer decisions of the last 7, 30 and 365 days: per category, transferred / refused."""
    operator = _operator(session, principal, org_id, "transfer.stats", "read")
    return transfer_stats_out(*console.transfer_stats(session, operator, utcnow()))
