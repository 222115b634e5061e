"""Who calls a consent route and for whom: shared by every module of ``consent.routes``.

A participant acts for themselves or, as a legal representative, for a minor
(``?subject=<child_id>``, judged by ``consent.representation`` on the day of the act); the
policy's owner/guardian condition is then checked on that subject (``policies.service``).
Operators and suppliers are OAuth clients bound to a registered organisation.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from consent import parties, representation
from consent.answers import refused_problem
from consent.models import Consent
from consent.parties import Party
from idp.guardianship import owner_resource
from policies.service import authorize
from propusk.errors import PROBLEM_JSON, Forbidden
from propusk.security import Principal

SubjectQuery = Query(None, description="a child's id, when a representative acts for them")

# What each policy action is as an act of (or for) the data subject (consent.representation).
SUBJECT_ACTS: dict[str, representation.Act] = {
    "read": "read",
    "create": "demand",
    "withdraw": "withdraw",
    "suspend": "suspend",
}


def person_of(principal: Principal) -> uuid.UUID:
    """The participant calling (403 ``not-a-person`` for a client)."""
    if principal.person_id is None:
        raise Forbidden("a participant login is required", type="not-a-person")
    return principal.person_id


def authorize_on_subject(
    session: Session, principal: Principal, obj: str, act: str, subject_id: uuid.UUID
) -> None:
    """The attribute check of the policy (owner or guardian) on the loaded subject."""
    authorize(principal, obj, act, resource=owner_resource(session, subject_id))


def subject_for(
    session: Session, principal: Principal, obj: str, act: str, subject: uuid.UUID | None
) -> uuid.UUID:
    """The subject the caller acts for (themselves or a minor they represent today)."""
    subject_id = representation.subjects_for(
        session, person_of(principal), subject, SUBJECT_ACTS[act]
    )
    authorize_on_subject(session, principal, obj, act, subject_id)
    return subject_id


def consent_for(session: Session, principal: Principal, consent_id: uuid.UUID, act: str) -> Consent:
    """The consent, if the caller may ``act`` on it now (its subject or their representative)."""
    consent = representation.consent_for_person(
        session, consent_id, person_of(principal), SUBJECT_ACTS[act]
    )
    policy_act = "withdraw" if act == "suspend" else act
    authorize_on_subject(session, principal, "consent", policy_act, consent.subject_id)
    return consent


def operator_of(session: Session, principal: Principal) -> Party:
    """The calling client's organisation, registered as an operator (else 403)."""
    return parties.organization_of(session, principal.organization_id, "operator")


def supplier_of(session: Session, principal: Principal) -> Party:
    """The calling client's organisation, registered as a supplier (else 403)."""
    return parties.organization_of(session, principal.organization_id, "supplier")


def refused(request: Request, body: dict[str, Any]) -> JSONResponse:
    """403 problem+json for a refused transfer; returned, not raised, so the record commits."""
    return JSONResponse(
        refused_problem(request.url.path, body), status_code=403, media_type=PROBLEM_JSON
    )
