"""Art. 14 access requests: a participant asks what Propusk knows and does with their data.

A request is due in 10 working days from receipt (check 10; its clock is an obligation of
``consent.obligations``, which may extend it or refuse with reasons). The answer (art. 14
part 7) is built from the ledger, the vault and the transfer log: legal bases and purposes,
operators, recipients, the data held, the periods, the rights procedure, cross-border
transfers and processors. Producing it the first time meets the clock.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from audit.service import record as audit
from consent import deadlines, parties, representation
from consent import repository as repo
from consent.models import AccessRequest, Consent, Template, Transfer
from consent.obligations.demands import access_answered, open_access
from consent.parties import Party
from idp import identity
from propusk.db import utcnow
from propusk.errors import NotFound

RIGHTS_PROCEDURE = (
    "Согласие отзывается в личном кабинете или письменным заявлением оператору "
    "(ст. 9 ч. 2 152-ФЗ); запрос сведений — ст. 14 152-ФЗ; ответ — в течение 10 рабочих "
    "дней с даты получения запроса."
)


def create_access_request(
    session: Session, subject_id: uuid.UUID, person_id: uuid.UUID, *, now: datetime
) -> AccessRequest:
    """Art. 14 access request: due in 10 working days from receipt (check 10)."""
    if identity.get_person(session, subject_id) is None:
        raise NotFound("no such participant", type="unknown-subject")
    row = AccessRequest(
        subject_id=subject_id,
        requested_by=person_id,
        received_at=now,
        due_date=deadlines.access_answer_due(now),
        status="open",
    )
    repo.add(session, row)
    open_access(session, row, now=now)
    audit(
        session,
        "consent.access_request",
        actor=f"person:{person_id}",
        subject=f"person:{subject_id}",
        body={"access_request_id": str(row.id)},
    )
    return row


def access_request_for_person(
    session: Session, request_id: uuid.UUID, person_id: uuid.UUID
) -> AccessRequest:
    """The request, if ``person_id`` may read it now (the subject or their representative)."""
    row = repo.get_access_request(session, request_id)
    if row is None:
        raise NotFound("no such access request")
    representation.acting_role(session, person_id, row.subject_id, utcnow(), "read")
    return row


def access_answer(session: Session, request: AccessRequest, *, now: datetime) -> dict[str, Any]:
    """The art. 14 part 7 answer, built from the ledger, the vault and the transfer log."""
    if request.status == "refused":
        return _access_refusal(request)
    subject_id = request.subject_id
    consents = repo.consents_of_subject(session, subject_id)
    templates = repo.templates_by_ids(session, [c.template_id for c in consents])
    transfers = repo.transfers_of_subject(session, subject_id, 1000)
    items = repo.vault_items(session, subject_id)
    orgs = parties.many(
        session,
        [c.operator_id for c in consents]
        + [t.operator_id for t in transfers if t.operator_id]
        + [i.supplier_id for i in items],
    )
    person = identity.get_person(session, subject_id)
    if request.status != "answered":
        request.status = "answered"
        request.answered_at = now
        session.flush()
        access_answered(session, request, now=now)
    return {
        "request": _request_brief(request),
        "subject": {"id": str(subject_id), "name": identity.full_name(person) if person else ""},
        "processing_confirmed": bool(consents or items or transfers),
        "legal_bases_and_purposes": _bases_and_purposes(session, consents),
        "processing_methods": sorted({m for t in templates.values() for m in t.processing_methods}),
        "operators": [
            _org_brief(orgs[c.operator_id]) | {"consent_id": str(c.id)}
            for c in consents
            if c.operator_id in orgs
        ],
        "recipients": _recipients(transfers, orgs),
        "data_held": [
            {
                "category": i.category_key,
                "source": _org_brief(orgs[i.supplier_id]),
                "updated_at": i.updated_at.isoformat(),
            }
            for i in items
        ],
        "periods": _periods(consents, templates),
        "rights_procedure": RIGHTS_PROCEDURE,
        "cross_border": [
            _org_brief(o) | {"notice_ref": o.cross_border_notice_ref}
            for o in orgs.values()
            if o.cross_border_notice_ref
        ],
        "processors": sorted({t.processor for t in templates.values() if t.processor}),
    }


def _access_refusal(request: AccessRequest) -> dict[str, Any]:
    """A reasoned refusal (art. 14 part 8, art. 20 part 2) instead of the answer."""
    return {
        "request": _request_brief(request),
        "refused": True,
        "refusal_reason": request.refusal_reason,
    }


def _request_brief(request: AccessRequest) -> dict[str, Any]:
    return {
        "id": str(request.id),
        "received_at": request.received_at.isoformat(),
        "due_date": request.due_date.isoformat(),
        "answered_at": request.answered_at.isoformat() if request.answered_at else None,
    }


def _bases_and_purposes(session: Session, consents: list[Consent]) -> list[dict[str, Any]]:
    """Each consent's purpose with its title and legal basis (empty when not catalogued)."""
    purposes = repo.purposes_by_keys(session, [c.purpose_key for c in consents])
    return [
        {
            "consent_id": str(c.id),
            "purpose": c.purpose_key,
            "purpose_title": purposes[c.purpose_key].title if c.purpose_key in purposes else "",
            "legal_basis": purposes[c.purpose_key].legal_basis if c.purpose_key in purposes else "",
            "state": c.state,
        }
        for c in consents
    ]


def _recipients(transfers: list[Transfer], orgs: dict[uuid.UUID, Party]) -> list[dict[str, Any]]:
    """The transfers that released something: when, to whom, what, why."""
    return [
        {
            "transfer_id": str(t.id),
            "at": t.at.isoformat(),
            "operator": _org_brief(orgs[t.operator_id]) if t.operator_id in orgs else None,
            "categories": t.allowed,
            "purpose": t.purpose_key,
            "legal_basis": t.legal_basis,
            "consent_ids": t.consent_ids,
        }
        for t in transfers
        if t.decision != "refused"
    ]


def _periods(consents: list[Consent], templates: dict[uuid.UUID, Template]) -> list[dict[str, Any]]:
    """Each consent's validity and term."""
    return [
        {
            "consent_id": str(c.id),
            "valid_from": c.valid_from.isoformat() if c.valid_from else None,
            "valid_until": c.valid_until.isoformat() if c.valid_until else None,
            "term_days": templates[c.template_id].term_days,
        }
        for c in consents
        if c.template_id in templates
    ]


def _org_brief(org: Party) -> dict[str, Any]:
    return {
        "id": str(org.id),
        "name": org.name,
        "inn": org.inn,
        "ogrn": org.ogrn,
        "address": org.address,
        "storage_location": org.storage_location,
    }
