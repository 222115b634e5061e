"""HTTP routes of the consent package (thin: policy, parse, call the service, shape).

Operators and suppliers are OAuth clients bound to a registered organisation; participants act
for themselves or, as a legal representative, for a child (``?subject=<child_id>``).
A refused transfer answers 403 problem+json *without raising*, so its transfer record commits.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from consent import (
    documents,
    flows,
    obligations,
    receipts,
    representation,
    schemas,
    service,
    signing,
    verification,
)
from consent import repository as repo
from consent.answers import decision_body, pull_answer, refused_problem
from consent.catalogue import DEFAULT_MAX_BYTES
from policies.deps import require
from propusk.db import utcnow
from propusk.deps import SessionDep, SettingsDep
from propusk.errors import PROBLEM_JSON, Forbidden, NotFound, ValidationProblem
from propusk.security import Principal

router = APIRouter(prefix="/api/v1", tags=["consent"])
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))


def _actor(principal: Principal) -> str:
    return principal.subject


def _person(principal: Principal) -> uuid.UUID:
    if principal.person_id is None:
        raise Forbidden("a participant login is required", type="not-a-person")
    return principal.person_id


def _authorize(session, principal: Principal, obj: str, act: str, subject_id: uuid.UUID) -> None:
    """The attribute check of the policy (owner or guardian) on the loaded subject."""
    from idp.service import owner_resource
    from policies.service import authorize

    authorize(principal, obj, act, resource=owner_resource(session, subject_id))


# What each policy action is as an act of (or for) the data subject (consent.representation).
SUBJECT_ACTS: dict[str, representation.Act] = {
    "read": "read",
    "create": "demand",
    "withdraw": "withdraw",
    "suspend": "suspend",
}


def _for_subject(
    session, principal: Principal, obj: str, act: str, subject: uuid.UUID | None
) -> uuid.UUID:
    """The subject the caller acts for (themselves or a minor they represent today)."""
    subject_id = service.subjects_for(session, _person(principal), subject, SUBJECT_ACTS[act])
    _authorize(session, principal, obj, act, subject_id)
    return subject_id


def _check_consent(session, principal: Principal, consent_id: uuid.UUID, act: str):
    consent = service.consent_for_person(session, consent_id, _person(principal), SUBJECT_ACTS[act])
    _authorize(
        session, principal, "consent", "withdraw" if act == "suspend" else act, consent.subject_id
    )
    return consent


def _admin(principal: Principal) -> None:
    if principal.kind != "platform_admin" and not any(
        r.role == "platform_admin" for r in principal.roles
    ):
        raise Forbidden("platform administrators only", type="not-platform-admin")


def _categories(raw: str) -> list[str]:
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    if not keys:
        raise ValidationProblem("categories must be a comma-separated list", type="bad-categories")
    return keys


def _refused(request: Request, body: dict[str, Any]) -> JSONResponse:
    """403 problem+json for a refused transfer; returned, not raised, so the record commits."""
    return JSONResponse(
        refused_problem(request.url.path, body), status_code=403, media_type=PROBLEM_JSON
    )


# --- platform admin: registry and catalogue -----------------------------------------------


@router.post("/organizations", status_code=201)
def register_organization(
    body: schemas.OrganizationIn,
    session: SessionDep,
    principal: Principal = require("organization", "write"),
) -> dict:
    _admin(principal)
    org = service.register_organization(session, body.model_dump(), actor=_actor(principal))
    return schemas.organization_out(org)


@router.get("/organizations/{org_id}")
def get_organization(
    org_id: uuid.UUID, session: SessionDep, principal: Principal = require("organization", "read")
) -> dict:
    org = repo.get_organization(session, org_id)
    if org is None:
        raise NotFound("no such organisation")
    return schemas.organization_out(org)


@router.put("/consent/catalogue")
def put_catalogue(
    body: schemas.CatalogueIn,
    session: SessionDep,
    principal: Principal = require("consent.template", "write"),
) -> dict:
    _admin(principal)
    cats, purps = service.load_catalogue(session, body.model_dump())
    return {"categories": cats, "purposes": purps}


@router.get("/consent/catalogue")
def get_catalogue(
    session: SessionDep, principal: Principal = require("consent.template", "read")
) -> dict:
    return {
        "categories": [
            {
                "key": c.key,
                "title": c.title,
                "special": c.special,
                "biometric": c.biometric,
                "max_bytes": c.max_bytes or DEFAULT_MAX_BYTES,  # of one vault value
            }
            for c in repo.all_categories(session)
        ],
        "purposes": [
            {"key": p.key, "title": p.title, "legal_basis": p.legal_basis}
            for p in repo.all_purposes(session)
        ],
    }


# --- operators ----------------------------------------------------------------------------


@router.post("/consent/templates", status_code=201)
def publish_template(
    body: schemas.TemplateIn,
    session: SessionDep,
    principal: Principal = require("consent.template", "write"),
) -> dict:
    operator = service.organization_of(session, principal.organization_id, "operator")
    data = body.model_dump()
    template = service.publish_template(session, operator, data, actor=_actor(principal))
    return schemas.template_out(template)


@router.get("/consent/templates/{template_id}")
def get_template(
    template_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("consent.template", "read"),
) -> dict:
    template = repo.get_template(session, template_id)
    if template is None:
        raise NotFound("no such template")
    return schemas.template_out(template)


@router.post("/consent/requests", status_code=201)
def create_request(
    body: schemas.ConsentRequestIn,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = require("consent.request", "create"),
) -> dict:
    """Ask a participant for consent. The answer's ``signing_url`` is where to send the person
    (add ``return_uri`` — registered for this client — and ``state``): only they sign."""
    operator = service.organization_of(session, principal.organization_id, "operator")
    consent = service.create_request(
        session,
        operator,
        template_id=body.template_id,
        subject_id=body.subject_id,
        categories=body.categories,
        purpose=body.purpose,
        supplier_id=body.supplier_id,
        actor=_actor(principal),
        now=utcnow(),
    )
    signing_url = f"{settings.issuer.rstrip('/')}/sign/{consent.id}"
    return {**schemas.consent_out(consent), "signing_url": signing_url}


@router.get("/consent/requests/{consent_id}")
def get_request(
    consent_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("consent.request", "read"),
) -> dict:
    operator = service.organization_of(session, principal.organization_id, "operator")
    consent = repo.get_consent(session, consent_id)
    if consent is None or consent.operator_id != operator.id:
        raise NotFound("no such consent request")
    return schemas.consent_out(consent)


@router.post("/consent/requests/{consent_id}/revoke")
def revoke_consent(
    consent_id: uuid.UUID,
    body: schemas.RevokeIn,
    session: SessionDep,
    principal: Principal = require("consent.request", "create"),
) -> dict:
    """The operator ends its own consent (contract ended, purpose achieved …)."""
    operator = service.organization_of(session, principal.organization_id, "operator")
    consent = repo.get_consent(session, consent_id)
    if consent is None or consent.operator_id != operator.id:
        raise NotFound("no such consent")
    consent = service.revoke(
        session,
        consent_id,
        actor=_actor(principal),
        role="operator",
        now=utcnow(),
        reason=body.reason,
    )
    return schemas.consent_out(consent)


@router.get("/consent/feed")
def consent_feed(
    session: SessionDep,
    since: int = Query(0, ge=0, le=2**31 - 1),
    limit: int = Query(100, ge=1, le=1000),
    principal: Principal = require("consent.feed", "read"),
) -> dict:
    operator = service.organization_of(session, principal.organization_id, "operator")
    events = service.feed(session, operator, since, limit)
    return {
        "events": [schemas.event_out(e) for e in events],
        "next": events[-1].pos if events else since,
    }


@router.get("/consent/destruction")
def open_destruction(
    session: SessionDep, principal: Principal = require("consent.feed", "read")
) -> dict:
    operator = service.organization_of(session, principal.organization_id, "operator")
    tasks = repo.open_destruction_of_operator(session, operator.id)
    return {"tasks": [schemas.task_out(t) for t in tasks]}


@router.post("/destruction/{task_id}/confirm")
def confirm_destruction(
    task_id: uuid.UUID, session: SessionDep, principal: Principal = require("consent.feed", "read")
) -> dict:
    operator = service.organization_of(session, principal.organization_id, "operator")
    task = service.confirm_destruction(
        session, operator, task_id, actor=_actor(principal), now=utcnow()
    )
    return schemas.task_out(task)


@router.get("/subjects/{subject_id}/data")
def pull_data(
    subject_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    purpose: str = Query(min_length=1, max_length=120),
    categories: str = Query(min_length=1, max_length=2000),
    principal: Principal = require("vault", "read"),
):
    operator = service.organization_of(session, principal.organization_id, "operator")
    outcome = flows.pull(
        session,
        settings,
        operator,
        subject_id=subject_id,
        purpose=purpose,
        categories=_categories(categories),
        actor=_actor(principal),
        now=utcnow(),
    )
    status, body = pull_answer(outcome, request.url.path)
    if status != 200:
        return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)
    return body


@router.post("/transfers/redeem")
def redeem_ticket(
    body: schemas.RedeemIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = require("transfer", "redeem"),
):
    operator = service.organization_of(session, principal.organization_id, "operator")
    outcome = flows.redeem(
        session, settings, operator, body.ticket, actor=_actor(principal), now=utcnow()
    )
    result = decision_body(outcome.decision, outcome.transfer.id)
    if not outcome.decision.allowed:
        return _refused(request, result)
    return result


# --- suppliers ----------------------------------------------------------------------------


@router.put("/subjects/{subject_id}/data/{category}")
def put_data(
    subject_id: uuid.UUID,
    category: str,
    body: schemas.VaultValueIn,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = require("vault", "write"),
) -> dict:
    supplier = service.organization_of(session, principal.organization_id, "supplier")
    item = flows.vault.put(
        session,
        settings,
        supplier,
        subject_id,
        category,
        body.value,
        actor=_actor(principal),
        now=utcnow(),
    )
    return {"subject_id": str(subject_id), "category": category, "id": str(item.id)}


@router.post("/transfers/tickets")
def issue_ticket(
    body: schemas.TicketIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = require("transfer", "ticket"),
):
    supplier = service.organization_of(session, principal.organization_id, "supplier")
    outcome = flows.issue_ticket(
        session,
        settings,
        supplier,
        operator_id=body.operator_id,
        subject_id=body.subject_id,
        purpose=body.purpose,
        categories=body.categories,
        actor=_actor(principal),
        now=utcnow(),
    )
    result = decision_body(outcome.decision, outcome.transfer.id)
    if outcome.ticket is None:
        return _refused(request, result)
    return {**result, "ticket": outcome.ticket}


# --- participants and representatives -----------------------------------------------------


SubjectQuery = Query(None, description="a child's id, when a representative acts for them")


@router.get("/me/consents")
def my_consents(
    session: SessionDep,
    subject: uuid.UUID | None = SubjectQuery,
    principal: Principal = require("consent", "read"),
) -> dict:
    subject_id = _for_subject(session, principal, "consent", "read", subject)
    rows = service.list_consents(session, subject_id, utcnow())
    return {"subject_id": str(subject_id), "consents": [schemas.consent_out(c) for c in rows]}


@router.get("/me/requests")
def my_requests(
    session: SessionDep,
    subject: uuid.UUID | None = SubjectQuery,
    principal: Principal = require("consent", "read"),
) -> dict:
    subject_id = _for_subject(session, principal, "consent", "read", subject)
    rows = service.list_consents(session, subject_id, utcnow(), pending=True)
    return {"subject_id": str(subject_id), "requests": [schemas.consent_out(c) for c in rows]}


@router.get("/consents/{consent_id}")
def get_consent(
    consent_id: uuid.UUID, session: SessionDep, principal: Principal = require("consent", "read")
) -> dict:
    consent = _check_consent(session, principal, consent_id, "read")
    events = repo.events_of(session, consent.id)
    return {**schemas.consent_out(consent), "events": [schemas.event_out(e) for e in events]}


@router.get("/consents/{consent_id}/document", response_model=schemas.DocumentOut)
def consent_document(
    consent_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("consent", "approve"),
) -> schemas.DocumentOut:
    """The document the caller would sign (its SHA-256 goes back with the signature)."""
    prepared = signing.prepare(session, principal, consent_id, utcnow())
    return schemas.document_out(prepared)


@router.post("/consents/{consent_id}/approve")
def approve(
    consent_id: uuid.UUID,
    body: schemas.ApproveIn,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = require("consent", "approve"),
) -> dict:
    """Sign the document shown (``document_sha256`` from ``GET …/document``); Propusk's own
    pages only (a relying party sends the person to ``/sign/{id}``)."""
    consent, row = signing.sign(
        session, settings, principal, consent_id, body.document_sha256, utcnow()
    )
    return {**schemas.consent_out(consent), "document": schemas.signed_document_out(row)}


@router.get("/consents/{consent_id}/documents/{document_id}.pdf")
def signed_document_pdf(
    consent_id: uuid.UUID,
    document_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = require("consent.document", "read"),
) -> Response:
    """The PDF of a signature: to the subject and their representatives, in Propusk's own pages
    (it names the signers and their ESIA accounts: no relying party's scope opens it)."""
    consent = service.consent_for_person(session, consent_id, _person(principal))
    _authorize(session, principal, "consent.document", "read", consent.subject_id)
    row = repo.document(session, document_id)
    if row is None or row.consent_id != consent.id:
        raise NotFound("no such signed document", type="unknown-document")
    return Response(
        documents.pdf_of(settings, row),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="consent-{consent.id}-{row.role}.pdf"'
        },
    )


@router.post("/consents/verify", response_model=schemas.VerifyOut, openapi_extra={"x-public": True})
def verify_consent(
    body: schemas.VerifyIn, session: SessionDep, settings: SettingsDep
) -> schemas.VerifyOut:
    """Is this receipt (or the PDF with this SHA-256) genuine, and the consent's state now?
    Public: anyone a person shows the receipt or PDF to may check it."""
    if body.pdf_sha256:
        row = repo.document_by_pdf_hash(session, body.pdf_sha256.lower())
        result = verification.for_document(session, row)
    else:
        result = verification.check(session, settings, receipt=body.receipt)
    return schemas.VerifyOut(**{k: getattr(result, k) for k in schemas.VerifyOut.model_fields})


@router.post("/consents/{consent_id}/refuse")
def refuse(
    consent_id: uuid.UUID,
    session: SessionDep,
    body: schemas.AnswerIn | None = None,
    principal: Principal = require("consent", "refuse"),
) -> dict:
    reason = body.reason if body else None
    consent = signing.refuse(session, principal, consent_id, utcnow(), reason)
    return schemas.consent_out(consent)


@router.post("/consents/{consent_id}/withdraw")
def withdraw(
    consent_id: uuid.UUID,
    session: SessionDep,
    body: schemas.AnswerIn | None = None,
    principal: Principal = require("consent", "withdraw"),
) -> dict:
    reason = body.reason if body else None
    _check_consent(session, principal, consent_id, "withdraw")
    consent = service.withdraw(session, consent_id, _person(principal), now=utcnow(), reason=reason)
    return schemas.consent_out(consent)


@router.post("/consents/{consent_id}/suspend")
def suspend(
    consent_id: uuid.UUID,
    session: SessionDep,
    body: schemas.AnswerIn | None = None,
    principal: Principal = require("consent", "withdraw"),
) -> dict:
    reason = body.reason if body else None
    _check_consent(session, principal, consent_id, "suspend")
    consent = service.suspend(session, consent_id, _person(principal), now=utcnow(), reason=reason)
    return schemas.consent_out(consent)


@router.get("/consents/{consent_id}/receipt")
def receipt(
    consent_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    event: Literal["given", "withdrawn"] | None = Query(None),
    principal: Principal = require("consent", "read"),
) -> dict:
    consent = _check_consent(session, principal, consent_id, "read")
    event = service.receipt_event(session, consent, event)
    template = repo.get_template(session, consent.template_id)
    operator = repo.get_organization(session, consent.operator_id)
    payload = receipts.receipt_payload(settings, consent, event, template, operator)
    token = receipts.sign(session, settings, payload, receipts.RECEIPT_TYP)
    return {"consent_id": str(consent.id), "event": event.type, "receipt": token}


@router.get("/me/transfers")
def my_transfers(
    session: SessionDep,
    settings: SettingsDep,
    subject: uuid.UUID | None = SubjectQuery,
    limit: int = Query(200, ge=1, le=1000),
    principal: Principal = require("transfer", "read"),
) -> dict:
    subject_id = _for_subject(session, principal, "transfer", "read", subject)
    rows = repo.transfers_of_subject(session, subject_id, limit)
    proofs = flows.history_proofs(session, settings, rows)  # each entry's audit inclusion proof
    transfers = [{**schemas.transfer_out(t), "audit": proofs.get(t.id)} for t in rows]
    return {"subject_id": str(subject_id), "transfers": transfers}


@router.get("/me/data")
def my_data(
    session: SessionDep,
    settings: SettingsDep,
    subject: uuid.UUID | None = SubjectQuery,
    principal: Principal = require("person.data", "read"),
) -> dict:
    subject_id = _for_subject(session, principal, "person.data", "read", subject)
    items = repo.vault_items(session, subject_id)
    return {
        "subject_id": str(subject_id),
        "data": [
            {
                "category": i.category_key,
                "supplier_id": str(i.supplier_id),
                "value": flows.vault.value_of(settings, i),
                "updated_at": i.updated_at.isoformat(),
            }
            for i in items
        ],
    }


@router.post("/me/access-requests", status_code=201)
def create_access_request(
    session: SessionDep,
    subject: uuid.UUID | None = SubjectQuery,
    principal: Principal = require("access_request", "create"),
) -> dict:
    person_id = _person(principal)
    subject_id = _for_subject(session, principal, "access_request", "create", subject)
    row = service.create_access_request(session, subject_id, person_id, now=utcnow())
    return schemas.access_request_out(row)


@router.get("/access-requests/{request_id}.html", response_class=HTMLResponse)
def access_answer_html(
    request_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Principal = require("access_request", "read"),
):
    row = service.access_request_for_person(session, request_id, _person(principal))
    _authorize(session, principal, "access_request", "read", row.subject_id)
    answer = service.access_answer(session, row, now=utcnow())
    if answer.get("refused"):
        return templates.TemplateResponse(request, "access_refusal.html", {"a": answer})
    return templates.TemplateResponse(
        request, "access_answer.html", {"a": answer, "states": STATE_RU, "methods": METHOD_RU}
    )


@router.get("/access-requests/{request_id}")
def access_answer_json(
    request_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("access_request", "read"),
) -> dict:
    row = service.access_request_for_person(session, request_id, _person(principal))
    _authorize(session, principal, "access_request", "read", row.subject_id)
    return service.access_answer(session, row, now=utcnow())


# --- 152-FZ obligations (checks 9–15; consent.obligations) ---------------------------------


def _registrar(session, principal: Principal) -> obligations.Registrar:
    """The platform (all obligations) or an operator client (its own organisation's)."""
    if principal.kind == "platform_admin" or any(
        r.role == "platform_admin" for r in principal.roles
    ):
        return obligations.Registrar(_actor(principal), None)
    org = service.organization_of(session, principal.organization_id, "operator")
    return obligations.Registrar(_actor(principal), org.id)


@router.post("/me/obligations/stop-processing", status_code=201)
def file_stop_processing(
    body: schemas.StopProcessingIn,
    session: SessionDep,
    subject: uuid.UUID | None = SubjectQuery,
    principal: Principal = require("obligation", "create"),
) -> dict:
    """Check 9: demand to stop processing (a named given consent is suspended at once)."""
    subject_id = _for_subject(session, principal, "obligation", "create", subject)
    row = obligations.file_stop_processing(
        session,
        subject_id,
        _person(principal),
        consent_id=body.consent_id,
        operator_id=body.operator_id,
        reason=body.reason,
        now=utcnow(),
    )
    return obligations.view(session, row)


@router.post("/me/obligations/rectification", status_code=201)
def file_rectification(
    body: schemas.RectificationIn,
    session: SessionDep,
    subject: uuid.UUID | None = SubjectQuery,
    principal: Principal = require("obligation", "create"),
) -> dict:
    """Check 11: rectification with proof; the categories are blocked during the check."""
    subject_id = _for_subject(session, principal, "obligation", "create", subject)
    row = obligations.file_rectification(
        session,
        subject_id,
        _person(principal),
        categories=body.categories,
        operator_id=body.operator_id,
        correction=body.correction,
        proof=body.proof,
        now=utcnow(),
    )
    return obligations.view(session, row)


@router.get("/me/obligations")
def my_obligations(
    session: SessionDep,
    subject: uuid.UUID | None = SubjectQuery,
    principal: Principal = require("obligation", "read"),
) -> dict:
    """The participant's demands (with clocks and events) and the notices sent to them."""
    subject_id = _for_subject(session, principal, "obligation", "read", subject)
    return obligations.of_subject(session, subject_id)


@router.post("/obligations/unlawful", status_code=201)
def record_unlawful(
    body: schemas.UnlawfulIn,
    session: SessionDep,
    principal: Principal = require("obligation.register", "write"),
) -> dict:
    """Check 12: unlawful processing found — block at once, stop 3 WD, destroy 10 WD."""
    row = obligations.record_unlawful(
        session,
        _registrar(session, principal),
        subject_id=body.subject_id,
        categories=body.categories,
        operator_id=body.operator_id,
        reason=body.reason,
        now=utcnow(),
    )
    return obligations.view(session, row)


@router.post("/obligations/incidents", status_code=201)
def record_incident(
    body: schemas.IncidentIn,
    session: SessionDep,
    principal: Principal = require("obligation.register", "write"),
) -> dict:
    """Check 14: an incident — RKN within 24 h, investigation results within 72 h."""
    row = obligations.record_incident(
        session,
        _registrar(session, principal),
        detected_at=body.detected_at,
        description=body.description,
        subjects_affected=body.subjects_affected,
        categories=body.categories,
        operator_id=body.operator_id,
        now=utcnow(),
    )
    return obligations.view(session, row)


@router.post("/obligations/rkn-requests", status_code=201)
def record_rkn_request(
    body: schemas.RknRequestIn,
    session: SessionDep,
    principal: Principal = require("obligation.register", "write"),
) -> dict:
    """Check 15: an RKN request — answer within 10 WD (+5 with a reasoned notice)."""
    row = obligations.record_rkn_request(
        session,
        _registrar(session, principal),
        received_at=body.received_at,
        rkn_ref=body.rkn_ref,
        summary=body.summary,
        operator_id=body.operator_id,
        now=utcnow(),
    )
    return obligations.view(session, row)


@router.post("/destruction/{task_id}/impossible", status_code=201)
def defer_destruction(
    task_id: uuid.UUID,
    body: schemas.DeferIn,
    session: SessionDep,
    principal: Principal = require("obligation.register", "write"),
) -> dict:
    """Check 13: destruction within 30 days impossible — block, destroy within 6 months."""
    row = obligations.defer_destruction(
        session, _registrar(session, principal), task_id, reason=body.reason, now=utcnow()
    )
    return obligations.view(session, row)


@router.get("/obligations/overdue")
def overdue_obligations(
    session: SessionDep, principal: Principal = require("obligation.register", "read")
) -> dict:
    """Every missed deadline (obligation clocks and 30-day destruction tasks)."""
    registrar = _registrar(session, principal)
    return {"overdue": obligations.overdue(session, utcnow(), registrar.org_id)}


@router.get("/obligations")
def open_obligations(
    session: SessionDep,
    limit: int = Query(200, ge=1, le=1000),
    principal: Principal = require("obligation.register", "read"),
) -> dict:
    """The work list: unclosed obligations with their clocks (operator: its own)."""
    return {"obligations": obligations.open_for(session, _registrar(session, principal), limit)}


@router.get("/obligations/{obligation_id}")
def get_obligation(
    obligation_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("obligation.register", "read"),
) -> dict:
    row = obligations.obligation_for(session, _registrar(session, principal), obligation_id)
    return obligations.view(session, row)


@router.post("/obligations/{obligation_id}/actions")
def resolve_obligation(
    obligation_id: uuid.UUID,
    body: schemas.ObligationActionIn,
    session: SessionDep,
    principal: Principal = require("obligation.register", "write"),
) -> dict:
    """One step: extend (reasoned), stopped, refuse, rectified, rejected, remedied, destroyed
    (with the Order 179 act when deferred), rkn_notified, results_sent, answered."""
    row = obligations.resolve(
        session,
        _registrar(session, principal),
        obligation_id,
        body.action,
        reason=body.reason,
        ref=body.ref,
        act=body.act.model_dump(mode="json") if body.act else None,
        now=utcnow(),
    )
    return obligations.view(session, row)


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
