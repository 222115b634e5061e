"""Routes of data transfers, each decided by the gate and recorded: an operator pulls a
subject's values from the vault or redeems a supplier's ticket; a supplier writes values into
the vault and issues tickets. A refused transfer answers 403 problem+json *without raising*,
so its transfer record commits. (The ordinary pull is answered by the outer lane
``consent.fastpath`` with the same shapes, ``consent.answers``.)"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from consent import flows, vault
from consent.answers import decision_body, pull_answer, to_json
from consent.routes.caller import operator_of, refused, supplier_of
from consent.schemas.transfers import (
    PulledOut,
    RedeemIn,
    TicketIn,
    TicketOut,
    TransferDecisionOut,
    VaultValueIn,
    VaultWriteOut,
)
from propusk.db import utcnow
from propusk.deps import SessionDep, SettingsDep, require
from propusk.errors import PROBLEM_JSON, ValidationProblem, problems
from propusk.security import Principal

router = APIRouter(prefix="/api/v1", tags=["consent"])
REFUSED = {403: {"description": "transfer refused (problem+json with the decision's keys)"}}


def _categories(raw: str) -> list[str]:
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    if not keys:
        raise ValidationProblem("categories must be a comma-separated list", type="bad-categories")
    return keys


@router.get("/subjects/{subject_id}/data", response_model=PulledOut, responses=REFUSED)
def pull_data(
    subject_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    purpose: str = Query(min_length=1, max_length=120),
    categories: str = Query(min_length=1, max_length=2000),
    principal: Principal = require("vault", "read"),
) -> dict[str, Any] | Response:
    """The calling operator reads a subject's values of the categories a given consent
    allows for the purpose (comma-separated ``categories``)."""
    outcome = flows.pull(
        session,
        settings,
        operator_of(session, principal),
        subject_id=subject_id,
        purpose=purpose,
        categories=_categories(categories),
        actor=principal.subject,
        now=utcnow(),
    )
    status, body = pull_answer(outcome, request.url.path)
    if status != 200:
        return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)
    return Response(to_json(body), media_type="application/json")


@router.post(
    "/transfers/redeem", response_model=TransferDecisionOut, responses={**REFUSED, **problems(400)}
)
def redeem_ticket(
    body: RedeemIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = require("transfer", "redeem"),
) -> dict[str, Any] | Response:
    """The calling operator redeems a supplier's ticket: the gate decides again now."""
    operator = operator_of(session, principal)
    outcome = flows.redeem(
        session, settings, operator, body.ticket, actor=principal.subject, now=utcnow()
    )
    result = decision_body(outcome.decision, outcome.transfer.id)
    if not outcome.decision.allowed:
        return refused(request, result)
    return result


@router.put("/subjects/{subject_id}/data/{category}", responses=problems(400))
def put_data(
    subject_id: uuid.UUID,
    category: str,
    body: VaultValueIn,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = require("vault", "write"),
) -> VaultWriteOut:
    """The calling supplier writes its value of one category of a subject it has a relation
    to (a status in its school/organisation, or a consent naming it)."""
    item = vault.put(
        session,
        settings,
        supplier_of(session, principal),
        subject_id,
        category,
        body.value,
        actor=principal.subject,
        now=utcnow(),
    )
    return VaultWriteOut(subject_id=subject_id, category=category, id=item.id)


@router.post("/transfers/tickets", response_model=TicketOut, responses=REFUSED)
def issue_ticket(
    body: TicketIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = require("transfer", "ticket"),
) -> dict[str, Any] | Response:
    """The calling supplier asks to send a subject's categories to an operator: the gate
    decides, and an allowed transfer gets a short-lived ticket (JWS) the operator redeems."""
    outcome = flows.issue_ticket(
        session,
        settings,
        supplier_of(session, principal),
        operator_id=body.operator_id,
        subject_id=body.subject_id,
        purpose=body.purpose,
        categories=body.categories,
        actor=principal.subject,
        now=utcnow(),
    )
    result = decision_body(outcome.decision, outcome.transfer.id)
    if outcome.ticket is None:
        return refused(request, result)
    return {**result, "ticket": outcome.ticket}
