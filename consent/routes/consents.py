"""Routes of a participant's consents (or their child's, ``?subject=``): the lists, one
consent with its events, the document to sign, the signature, refusal, withdrawal,
suspension, receipts, the signed PDFs; and the public verification of a receipt or PDF."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from consent import (
    documents,
    lifecycle,
    participant,
    queries,
    representation,
    signatures,
    signing,
    verification,
)
from consent.routes.caller import (
    SubjectQuery,
    authorize_on_subject,
    consent_for,
    person_of,
    subject_for,
)
from consent.schemas.ledger import (
    AnswerIn,
    ConsentOut,
    ConsentReceiptOut,
    ConsentWithEventsOut,
    ConsequencesOut,
    SubjectConsentsOut,
    SubjectRequestsOut,
    consent_event_out,
    consent_fields,
    consent_out,
    consequences_out,
    subject_consent_out,
)
from consent.schemas.signing import (
    ApprovedOut,
    ApproveIn,
    DocumentOut,
    VerifyIn,
    VerifyOut,
    approved_out,
    document_out,
    verify_out,
)
from propusk.db import utcnow
from propusk.deps import SessionDep, SettingsDep, require
from propusk.errors import Problem, problems
from propusk.security import Principal

router = APIRouter(prefix="/api/v1", tags=["consent"])
PDF = {
    200: {
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        "description": "the signed PDF",
    }
}


@router.get("/me/consents", responses=problems(404))
def my_consents(
    session: SessionDep,
    subject: uuid.UUID | None = SubjectQuery,
    principal: Principal = require("consent", "read"),
) -> SubjectConsentsOut:
    """The subject's consents in every state (lapsed requests expire first)."""
    subject_id = subject_for(session, principal, "consent", "read", subject)
    rows = lifecycle.list_consents(session, subject_id, utcnow())
    views, names = participant.consent_views(session, rows)
    consents = [subject_consent_out(v, names) for v in views]
    return SubjectConsentsOut(subject_id=subject_id, consents=consents)


@router.get("/me/requests", responses=problems(404))
def my_requests(
    session: SessionDep,
    subject: uuid.UUID | None = SubjectQuery,
    principal: Principal = require("consent", "read"),
) -> SubjectRequestsOut:
    """The subject's consent requests waiting for an answer."""
    subject_id = subject_for(session, principal, "consent", "read", subject)
    rows = lifecycle.list_consents(session, subject_id, utcnow(), pending=True)
    views, names = participant.consent_views(session, rows)
    requests = [subject_consent_out(v, names) for v in views]
    return SubjectRequestsOut(subject_id=subject_id, requests=requests)


@router.get("/consents/{consent_id}")
def get_consent(
    consent_id: uuid.UUID, session: SessionDep, principal: Principal = require("consent", "read")
) -> ConsentWithEventsOut:
    """One consent of the subject with its hash-chained events."""
    consent = consent_for(session, principal, consent_id, "read")
    events = [consent_event_out(e) for e in queries.consent_events(session, consent.id)]
    return ConsentWithEventsOut(**consent_fields(consent), events=events)


@router.get("/consents/{consent_id}/consequences")
def consent_consequences(
    consent_id: uuid.UUID, session: SessionDep, principal: Principal = require("consent", "read")
) -> ConsequencesOut:
    """What withdrawing this consent, or demanding that its processing stop, would start now
    (the cabinet says it before the person confirms): the operator's deadline and who it
    ends for."""
    consent = consent_for(session, principal, consent_id, "read")
    now = utcnow()
    may = {act: _may(session, principal, consent, act, now) for act in ("withdraw", "suspend")}
    found = participant.consequences(
        session, consent, now, may_withdraw=may["withdraw"], may_stop=may["suspend"]
    )
    return consequences_out(found)


def _may(session: Session, principal: Principal, consent, act: str, now) -> bool:
    """Would the caller's ``act`` on this consent pass the same checks the act's route makes
    (policy, delegation, who acts at the subject's age)? The cabinet offers only what would."""
    try:
        consent_for(session, principal, consent.id, act)
        representation.acting_role(session, person_of(principal), consent.subject_id, now, act)
    except Problem:
        return False
    return True


@router.get("/consents/{consent_id}/document")
def consent_document(
    consent_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("consent", "approve"),
) -> DocumentOut:
    """The document the caller would sign (its SHA-256 goes back with the signature)."""
    prepared = signing.prepare(session, principal, consent_id, utcnow())
    return document_out(prepared, signatures.required_roles(prepared.age_group))


@router.post("/consents/{consent_id}/approve", responses=problems(400, 409, 429))
def approve(
    consent_id: uuid.UUID,
    body: ApproveIn,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = require("consent", "approve", limit="rate_consent_decisions"),
) -> ApprovedOut:
    """Sign the document shown (``document_sha256`` from ``GET …/document``); Propusk's own
    pages only (a relying party sends the person to ``/sign/{id}``)."""
    consent, row = signing.sign(
        session, settings, principal, consent_id, body.document_sha256, utcnow()
    )
    return approved_out(consent, row)


@router.get(
    "/consents/{consent_id}/documents/{document_id}.pdf",
    response_class=Response,
    responses=PDF,
)
def signed_document_pdf(
    consent_id: uuid.UUID,
    document_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = require("consent.document", "read"),
) -> Response:
    """The PDF of a signature: to the subject and their representatives, in Propusk's own pages
    (it names the signers and their ESIA accounts: no relying party's scope opens it)."""
    consent = representation.consent_for_person(session, consent_id, person_of(principal))
    authorize_on_subject(session, principal, "consent.document", "read", consent.subject_id)
    row = queries.signed_document(session, consent, document_id)
    return Response(
        documents.pdf_of(settings, row),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="consent-{consent.id}-{row.role}.pdf"'
        },
    )


@router.post("/consents/verify", openapi_extra={"x-public": True})
def verify_consent(body: VerifyIn, session: SessionDep, settings: SettingsDep) -> VerifyOut:
    """Is this receipt (or the PDF with this SHA-256) genuine, and the consent's state now?
    Public: anyone a person shows the receipt or PDF to may check it."""
    if body.pdf_sha256:
        return verify_out(queries.verify_pdf_hash(session, body.pdf_sha256))
    return verify_out(verification.check(session, settings, receipt=body.receipt))


@router.post("/consents/{consent_id}/refuse", responses=problems(409, 429))
def refuse(
    consent_id: uuid.UUID,
    session: SessionDep,
    body: AnswerIn | None = None,
    principal: Principal = require("consent", "refuse", limit="rate_consent_decisions"),
) -> ConsentOut:
    """Refuse a consent request (it cannot be undone)."""
    reason = body.reason if body else None
    return consent_out(signing.refuse(session, principal, consent_id, utcnow(), reason))


@router.post("/consents/{consent_id}/withdraw", responses=problems(409, 429))
def withdraw(
    consent_id: uuid.UUID,
    session: SessionDep,
    body: AnswerIn | None = None,
    principal: Principal = require("consent", "withdraw", limit="rate_consent_decisions"),
) -> ConsentOut:
    """Withdraw a given consent: transfers stop at once, the operator destroys the data."""
    return _end(session, principal, consent_id, body, "withdraw")


@router.post("/consents/{consent_id}/suspend", responses=problems(409, 429))
def suspend(
    consent_id: uuid.UUID,
    session: SessionDep,
    body: AnswerIn | None = None,
    principal: Principal = require("consent", "withdraw", limit="rate_consent_decisions"),
) -> ConsentOut:
    """Suspend a given consent: no transfer while suspended."""
    return _end(session, principal, consent_id, body, "suspend")


def _end(
    session: Session,
    principal: Principal,
    consent_id: uuid.UUID,
    body: AnswerIn | None,
    act: Literal["withdraw", "suspend"],
) -> ConsentOut:
    """Withdraw or suspend a given consent as its subject or their representative."""
    consent_for(session, principal, consent_id, act)
    change = lifecycle.withdraw if act == "withdraw" else lifecycle.suspend
    reason = body.reason if body else None
    consent = change(session, consent_id, person_of(principal), now=utcnow(), reason=reason)
    return consent_out(consent)


@router.get("/consents/{consent_id}/receipt", responses=problems(409))
def receipt(
    consent_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    event: Literal["given", "withdrawn"] | None = Query(None),
    principal: Principal = require("consent", "read"),
) -> ConsentReceiptOut:
    """A signed receipt (JWS) of the consent's latest grant or withdrawal (``event`` picks)."""
    consent = consent_for(session, principal, consent_id, "read")
    signed = queries.receipt(session, settings, consent, event)
    return ConsentReceiptOut(
        consent_id=signed.consent_id, event=signed.event_type, receipt=signed.token
    )
