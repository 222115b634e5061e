"""Routes of the 152-FZ obligations (checks 9–15, ``consent.obligations``): a participant's
demands (stop processing, rectification) and notices; the register operators and the platform
keep (unlawful processing, incidents, RKN requests, impossible destructions, resolutions,
overdue deadlines).

Who works on which part of the register is the policy's: ``obligation.register.all``
(platform administrators) opens every organisation's obligations; any other registrar is an
operator client working on its own organisation's.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from consent import obligations
from consent.models import Obligation
from consent.routes.caller import SubjectQuery, operator_of, person_of, subject_for
from consent.schemas.obligations import (
    DeferIn,
    IncidentIn,
    ObligationActionIn,
    ObligationOut,
    OpenObligationsOut,
    OverdueOut,
    RectificationIn,
    RknRequestIn,
    StopProcessingIn,
    SubjectObligationsOut,
    UnlawfulIn,
)
from policies.service import decide
from propusk.db import utcnow
from propusk.deps import SessionDep, require
from propusk.errors import problems
from propusk.security import Principal

router = APIRouter(prefix="/api/v1", tags=["consent"])
WHOLE_REGISTER = "obligation.register.all"


def _registrar(session: Session, principal: Principal, act: str) -> obligations.Registrar:
    """The platform (every organisation's obligations: ``obligation.register.all``) or an
    operator client (its own organisation's)."""
    if decide(principal, WHOLE_REGISTER, act).allowed:
        return obligations.Registrar(principal.subject, None)
    return obligations.Registrar(principal.subject, operator_of(session, principal).id)


def _view(session: Session, row: Obligation) -> ObligationOut:
    """The obligation with its clocks and events (``consent.obligations.view``)."""
    return ObligationOut.model_validate(obligations.view(session, row))


# --- the participant's demands (checks 9, 11) -----------------------------------------------


@router.post("/me/obligations/stop-processing", status_code=201, responses=problems(400, 404))
def file_stop_processing(
    body: StopProcessingIn,
    session: SessionDep,
    subject: uuid.UUID | None = SubjectQuery,
    principal: Principal = require("obligation", "create"),
) -> ObligationOut:
    """Check 9: demand to stop processing (a named given consent is suspended at once)."""
    subject_id = subject_for(session, principal, "obligation", "create", subject)
    row = obligations.file_stop_processing(
        session,
        subject_id,
        person_of(principal),
        consent_id=body.consent_id,
        operator_id=body.operator_id,
        reason=body.reason,
        now=utcnow(),
    )
    return _view(session, row)


@router.post("/me/obligations/rectification", status_code=201, responses=problems(400, 404))
def file_rectification(
    body: RectificationIn,
    session: SessionDep,
    subject: uuid.UUID | None = SubjectQuery,
    principal: Principal = require("obligation", "create"),
) -> ObligationOut:
    """Check 11: rectification with proof; the categories are blocked during the check."""
    subject_id = subject_for(session, principal, "obligation", "create", subject)
    row = obligations.file_rectification(
        session,
        subject_id,
        person_of(principal),
        categories=body.categories,
        operator_id=body.operator_id,
        correction=body.correction,
        proof=body.proof,
        now=utcnow(),
    )
    return _view(session, row)


@router.get("/me/obligations", responses=problems(404))
def my_obligations(
    session: SessionDep,
    subject: uuid.UUID | None = SubjectQuery,
    principal: Principal = require("obligation", "read"),
) -> SubjectObligationsOut:
    """The participant's demands (with clocks and events) and the notices sent to them."""
    subject_id = subject_for(session, principal, "obligation", "read", subject)
    return SubjectObligationsOut.model_validate(obligations.of_subject(session, subject_id))


# --- the register (checks 12–15) --------------------------------------------------------------


@router.post("/obligations/unlawful", status_code=201, responses=problems(400))
def record_unlawful(
    body: UnlawfulIn,
    session: SessionDep,
    principal: Principal = require("obligation.register", "write"),
) -> ObligationOut:
    """Check 12: unlawful processing found — block at once, stop 3 WD, destroy 10 WD."""
    row = obligations.record_unlawful(
        session,
        _registrar(session, principal, "write"),
        subject_id=body.subject_id,
        categories=body.categories,
        operator_id=body.operator_id,
        reason=body.reason,
        now=utcnow(),
    )
    return _view(session, row)


@router.post("/obligations/incidents", status_code=201, responses=problems(400))
def record_incident(
    body: IncidentIn,
    session: SessionDep,
    principal: Principal = require("obligation.register", "write"),
) -> ObligationOut:
    """Check 14: an incident — RKN within 24 h, investigation results within 72 h."""
    row = obligations.record_incident(
        session,
        _registrar(session, principal, "write"),
        detected_at=body.detected_at,
        description=body.description,
        subjects_affected=body.subjects_affected,
        categories=body.categories,
        operator_id=body.operator_id,
        now=utcnow(),
    )
    return _view(session, row)


@router.post("/obligations/rkn-requests", status_code=201, responses=problems(400))
def record_rkn_request(
    body: RknRequestIn,
    session: SessionDep,
    principal: Principal = require("obligation.register", "write"),
) -> ObligationOut:
    """Check 15: an RKN request — answer within 10 WD (+5 with a reasoned notice)."""
    row = obligations.record_rkn_request(
        session,
        _registrar(session, principal, "write"),
        received_at=body.received_at,
        rkn_ref=body.rkn_ref,
        summary=body.summary,
        operator_id=body.operator_id,
        now=utcnow(),
    )
    return _view(session, row)


@router.post("/destruction/{task_id}/impossible", status_code=201, responses=problems(400, 409))
def defer_destruction(
    task_id: uuid.UUID,
    body: DeferIn,
    session: SessionDep,
    principal: Principal = require("obligation.register", "write"),
) -> ObligationOut:
    """Check 13: destruction within 30 days impossible — block, destroy within 6 months."""
    registrar = _registrar(session, principal, "write")
    row = obligations.defer_destruction(
        session, registrar, task_id, reason=body.reason, now=utcnow()
    )
    return _view(session, row)


@router.get("/obligations/overdue")
def overdue_obligations(
    session: SessionDep, principal: Principal = require("obligation.register", "read")
) -> OverdueOut:
    """Every missed deadline (obligation clocks and 30-day destruction tasks)."""
    registrar = _registrar(session, principal, "read")
    return OverdueOut(overdue=obligations.overdue(session, utcnow(), registrar.org_id))


@router.get("/obligations")
def open_obligations(
    session: SessionDep,
    limit: int = Query(200, ge=1, le=1000),
    principal: Principal = require("obligation.register", "read"),
) -> OpenObligationsOut:
    """The work list: unclosed obligations with their clocks (operator: its own)."""
    registrar = _registrar(session, principal, "read")
    return OpenObligationsOut(obligations=obligations.open_for(session, registrar, limit))


@router.get("/obligations/{obligation_id}")
def get_obligation(
    obligation_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("obligation.register", "read"),
) -> ObligationOut:
    """One obligation of the register with its clocks and events."""
    registrar = _registrar(session, principal, "read")
    return _view(session, obligations.obligation_for(session, registrar, obligation_id))


@router.post("/obligations/{obligation_id}/actions", responses=problems(400, 409))
def resolve_obligation(
    obligation_id: uuid.UUID,
    body: ObligationActionIn,
    session: SessionDep,
    principal: Principal = require("obligation.register", "write"),
) -> ObligationOut:
    """One step: extend (reasoned), stopped, refuse, rectified, rejected, remedied, destroyed
    (with the Order 179 act when deferred), rkn_notified, results_sent, answered."""
    row = obligations.resolve(
        session,
        _registrar(session, principal, "write"),
        obligation_id,
        body.action,
        reason=body.reason,
        ref=body.ref,
        act=body.act.model_dump(mode="json") if body.act else None,
        now=utcnow(),
    )
    return _view(session, row)
