"""Routes of an operator client: its consent requests, its withdrawal feed and the
destruction tasks withdrawals start."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query

from consent import destruction, ledger, lifecycle, queries
from consent.routes.caller import operator_of
from consent.schemas.ledger import (
    ConsentFeedOut,
    ConsentOut,
    ConsentRequestIn,
    ConsentRequestOut,
    DestructionTaskOut,
    DestructionTasksOut,
    RevokeIn,
    consent_event_out,
    consent_fields,
    consent_out,
    destruction_task_out,
)
from propusk.db import utcnow
from propusk.deps import SessionDep, SettingsDep, require
from propusk.errors import problems
from propusk.security import Principal

router = APIRouter(prefix="/api/v1", tags=["consent"])


@router.post("/consent/requests", status_code=201, responses=problems(404))
def create_request(
    body: ConsentRequestIn,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = require("consent.request", "create"),
) -> ConsentRequestOut:
    """Ask a participant for consent. The answer's ``signing_url`` is where to send the person
    (add ``return_uri`` — registered for this client — and ``state``): only they sign."""
    operator = operator_of(session, principal)
    consent = lifecycle.create_request(
        session,
        operator,
        template_id=body.template_id,
        subject_id=body.subject_id,
        categories=body.categories,
        purpose=body.purpose,
        supplier_id=body.supplier_id,
        actor=principal.subject,
        now=utcnow(),
    )
    signing_url = f"{settings.issuer.rstrip('/')}/sign/{consent.id}"
    return ConsentRequestOut(**consent_fields(consent), signing_url=signing_url)


@router.get("/consent/requests/{consent_id}")
def get_request(
    consent_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("consent.request", "read"),
) -> ConsentOut:
    """One of the calling operator's consents (requests) and its state."""
    operator = operator_of(session, principal)
    consent = queries.consent_of_operator(session, operator, consent_id, "no such consent request")
    return consent_out(consent)


@router.post("/consent/requests/{consent_id}/revoke", responses=problems(400, 409))
def revoke_consent(
    consent_id: uuid.UUID,
    body: RevokeIn,
    session: SessionDep,
    principal: Principal = require("consent.request", "create"),
) -> ConsentOut:
    """The operator ends its own consent (contract ended, purpose achieved …)."""
    operator = operator_of(session, principal)
    queries.consent_of_operator(session, operator, consent_id, "no such consent")
    consent = lifecycle.revoke(
        session,
        consent_id,
        actor=principal.subject,
        role="operator",
        now=utcnow(),
        reason=body.reason,
    )
    return consent_out(consent)


@router.get("/consent/feed")
def consent_feed(
    session: SessionDep,
    since: int = Query(0, ge=0, le=2**31 - 1),
    limit: int = Query(100, ge=1, le=1000),
    principal: Principal = require("consent.feed", "read"),
) -> ConsentFeedOut:
    """The calling operator's consent events after position ``since`` (grants, withdrawals,
    suspensions, expiries …), oldest first."""
    operator = operator_of(session, principal)
    events = ledger.feed(session, operator, since, limit)
    return ConsentFeedOut(
        events=[consent_event_out(e) for e in events], next=events[-1].pos if events else since
    )


@router.get("/consent/destruction")
def open_destruction(
    session: SessionDep, principal: Principal = require("consent.feed", "read")
) -> DestructionTasksOut:
    """The calling operator's destruction tasks not confirmed yet."""
    operator = operator_of(session, principal)
    return DestructionTasksOut(
        tasks=[destruction_task_out(t) for t in queries.open_destruction(session, operator)]
    )


@router.post("/destruction/{task_id}/confirm", responses=problems(409))
def confirm_destruction(
    task_id: uuid.UUID, session: SessionDep, principal: Principal = require("consent.feed", "read")
) -> DestructionTaskOut:
    """The operator confirms it destroyed the task's data."""
    operator = operator_of(session, principal)
    task = destruction.confirm_destruction(
        session, operator, task_id, actor=principal.subject, now=utcnow()
    )
    return destruction_task_out(task)
