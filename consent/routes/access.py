"""Routes of what a participant may know about their data (or their child's, ``?subject=``):
the transfer history with audit proofs, the values held, and art. 14 access requests with
their answer (JSON, or an HTML page to print)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from consent import access, participant
from consent.routes.caller import SubjectQuery, authorize_on_subject, person_of, subject_for
from consent.schemas.access import (
    AccessAnswerOut,
    AccessRefusalOut,
    AccessRequestOut,
    access_request_out,
)
from consent.schemas.transfers import (
    SubjectDataOut,
    TransferHistoryOut,
    held_value_out,
    transfer_entry_out,
)
from propusk.db import utcnow
from propusk.deps import SessionDep, SettingsDep, require
from propusk.security import Principal

router = APIRouter(prefix="/api/v1", tags=["consent"])
templates = Jinja2Templates(directory=str(Path(__file__).parents[1] / "templates"))
STATE_RU = {
    "requested": "запрошено",
    "partially_given": "дано частично",
    "given": "дано",
    "refused": "отказано",
    "withdrawn": "отозвано",
    "revoked": "прекращено",
    "suspended": "приостановлено",
    "expired": "истекло",
}
METHOD_RU = {
    "automated": "автоматизированная обработка",
    "non_automated": "неавтоматизированная обработка",
    "mixed": "смешанная обработка",
}


@router.get("/me/transfers")
def my_transfers(
    session: SessionDep,
    settings: SettingsDep,
    subject: uuid.UUID | None = SubjectQuery,
    limit: int = Query(200, ge=1, le=1000),
    principal: Principal = require("transfer", "read"),
) -> TransferHistoryOut:
    """Every transfer of the subject's data (given and refused), newest first, each with the
    audit inclusion proof of its decision."""
    subject_id = subject_for(session, principal, "transfer", "read", subject)
    views, names = participant.transfer_views(session, settings, subject_id, limit)
    transfers = [transfer_entry_out(v, names) for v in views]
    return TransferHistoryOut(subject_id=subject_id, transfers=transfers)


@router.get("/me/data")
def my_data(
    session: SessionDep,
    settings: SettingsDep,
    subject: uuid.UUID | None = SubjectQuery,
    principal: Principal = require("person.data", "read"),
) -> SubjectDataOut:
    """The values suppliers wrote about the subject, by category."""
    subject_id = subject_for(session, principal, "person.data", "read", subject)
    held, names = participant.held_values(session, settings, subject_id)
    data = [held_value_out(i, v, names) for i, v in held]
    return SubjectDataOut(subject_id=subject_id, data=data)


@router.post("/me/access-requests", status_code=201)
def create_access_request(
    session: SessionDep,
    subject: uuid.UUID | None = SubjectQuery,
    principal: Principal = require("access_request", "create"),
) -> AccessRequestOut:
    """File an art. 14 access request: the answer is due in 10 working days."""
    person_id = person_of(principal)
    subject_id = subject_for(session, principal, "access_request", "create", subject)
    row = access.create_access_request(session, subject_id, person_id, now=utcnow())
    return access_request_out(row)


def _answer(session: Session, principal: Principal, request_id: uuid.UUID) -> dict[str, Any]:
    """The answer to the caller's (or their child's) request; answering it on first read."""
    row = access.access_request_for_person(session, request_id, person_of(principal))
    authorize_on_subject(session, principal, "access_request", "read", row.subject_id)
    return access.access_answer(session, row, now=utcnow())


@router.get(
    "/access-requests/{request_id}.html",
    response_class=HTMLResponse,
    responses={200: {"description": "the answer as a page to print"}},
)
def access_answer_html(
    request_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Principal = require("access_request", "read"),
) -> Response:
    """The art. 14 answer (or the reasoned refusal) as an HTML page."""
    answer = _answer(session, principal, request_id)
    if answer.get("refused"):
        return templates.TemplateResponse(request, "access_refusal.html", {"a": answer})
    context = {"a": answer, "states": STATE_RU, "methods": METHOD_RU}
    return templates.TemplateResponse(request, "access_answer.html", context)


@router.get("/access-requests/{request_id}", response_model=AccessAnswerOut | AccessRefusalOut)
def access_answer_json(
    request_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("access_request", "read"),
) -> dict[str, Any]:
    """The art. 14 part 7 answer (or the reasoned refusal, art. 14 part 8)."""
    return _answer(session, principal, request_id)
