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

from consent import access, participant, queries, wording
from consent.routes.caller import SubjectQuery, authorize_on_subject, person_of, subject_for
from consent.schemas.access import (
    AccessAnswerOut,
    AccessRefusalOut,
    AccessRequestOut,
    SubjectCategoriesOut,
    SubjectCategoryOut,
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
from propusk.errors import problems
from propusk.security import Principal

router = APIRouter(prefix="/api/v1", tags=["consent"])
HERE = Path(__file__).parents[1]
WEB_TEMPLATES = HERE.parent / "propusk" / "web" / "templates"  # the page layout, read as a file
templates = Jinja2Templates(directory=[str(HERE / "templates"), str(WEB_TEMPLATES)])
templates.env.filters["msk"] = wording.moscow_time
templates.env.filters["day"] = wording.moscow_day
templates.env.filters["sentence"] = wording.sentence


@router.get("/me/transfers", responses=problems(404))
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


@router.get("/me/data", responses=problems(404))
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


@router.get("/me/categories", responses=problems(404))
def my_categories(
    session: SessionDep,
    subject: uuid.UUID | None = SubjectQuery,
    principal: Principal = require("person.data", "read"),
) -> SubjectCategoriesOut:
    """The catalogued categories of data held about the subject or named by a consent they
    gave, with the catalogue's Russian titles: the choices of a rectification demand
    (``POST /me/obligations/rectification`` takes their ``key``)."""
    subject_id = subject_for(session, principal, "person.data", "read", subject)
    found = queries.subject_categories(session, subject_id)
    return SubjectCategoriesOut(
        subject_id=subject_id,
        categories=[SubjectCategoryOut.model_validate(c, from_attributes=True) for c in found],
    )


@router.post("/me/access-requests", status_code=201, responses=problems(404))
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
    settings: SettingsDep,
    principal: Principal = require("access_request", "read"),
) -> Response:
    """The art. 14 answer (or the reasoned refusal) as a document to read and print: in
    Russian, Moscow dates, named by the catalogue's titles and the organisations' names; the
    platform's operator (``Settings.operator_*``) answers it."""
    answer = _answer(session, principal, request_id)
    name = "access_refusal.html" if answer.get("refused") else "access_answer.html"
    return templates.TemplateResponse(request, name, {"a": answer, "operator": settings})


@router.get("/access-requests/{request_id}", response_model=AccessAnswerOut | AccessRefusalOut)
def access_answer_json(
    request_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("access_request", "read"),
) -> dict[str, Any]:
    """The art. 14 part 7 answer (or the reasoned refusal, art. 14 part 8)."""
    return _answer(session, principal, request_id)
