"""Read-only look-ups of the consent HTTP layer (routes and pages never query a repository).

Each function loads what one answer shows — an organisation, the catalogue, a template, an
operator's own consent, a signed document, a subject's transfer history or vault values —
and answers 404 (``propusk.errors.NotFound``) where the route would. Nothing here writes;
the business rules stay in the service modules (``consent.lifecycle``, ``consent.flows``,
``consent.obligations`` …).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from consent import catalogue as catalogue_service
from consent import flows, ledger, parties, receipts, vault, verification
from consent import repository as repo
from consent.models import (
    Category,
    Consent,
    ConsentEvent,
    DestructionTask,
    Purpose,
    SignedDocument,
    Template,
    Transfer,
    VaultItem,
)
from consent.parties import Party
from propusk.errors import NotFound
from propusk.settings import Settings

# --- registry and catalogue -----------------------------------------------------------------


def organization(session: Session, org_id: uuid.UUID) -> Party:
    """A registered organisation (operator or supplier), else 404."""
    org = parties.get(session, org_id)
    if org is None:
        raise NotFound("no such organisation")
    return org


def organization_or_none(session: Session, org_id: uuid.UUID) -> Party | None:
    return parties.get(session, org_id)


def catalogue(session: Session) -> tuple[list[Category], list[Purpose]]:
    """Every category and purpose of the catalogue."""
    return repo.all_categories(session), repo.all_purposes(session)


def template_or_none(session: Session, template_id: uuid.UUID) -> Template | None:
    return repo.get_template(session, template_id)


def template(session: Session, template_id: uuid.UUID) -> Template:
    """A published template (any operator's: templates are public texts), else 404."""
    found = repo.get_template(session, template_id)
    if found is None:
        raise NotFound("no such template")
    return found


# --- the ledger -----------------------------------------------------------------------------


def consent_or_none(session: Session, consent_id: uuid.UUID) -> Consent | None:
    return repo.get_consent(session, consent_id)


def consent_of_operator(
    session: Session, operator: Party, consent_id: uuid.UUID, missing: str
) -> Consent:
    """The operator's own consent (request); another operator's is as unknown (404)."""
    consent = repo.get_consent(session, consent_id)
    if consent is None or consent.operator_id != operator.id:
        raise NotFound(missing)
    return consent


def consent_events(session: Session, consent_id: uuid.UUID) -> list[ConsentEvent]:
    """The consent's hash-chained events, oldest first."""
    return repo.events_of(session, consent_id)


def open_destruction(session: Session, operator: Party) -> list[DestructionTask]:
    """The operator's destruction tasks not confirmed yet."""
    return repo.open_destruction_of_operator(session, operator.id)


@dataclass(frozen=True)
class Receipt:
    """A signed receipt (JWS) of a consent's grant or withdrawal event."""

    consent_id: uuid.UUID
    event_type: str
    token: str
    at: datetime | None = None  # when the event happened
    actor: str | None = None  # who acted (``person:<id>``) and as what (``subject``/``guardian``)
    actor_role: str | None = None


def receipt(session: Session, settings: Settings, consent: Consent, kind: str | None) -> Receipt:
    """The receipt of the latest grant or withdrawal (``kind`` chooses one), signed with the
    service key; 409 ``no-receipt`` when there is none."""
    event = ledger.receipt_event(session, consent, kind)
    template_row = repo.get_template(session, consent.template_id)
    operator = parties.get(session, consent.operator_id)
    payload = receipts.receipt_payload(settings, consent, event, template_row, operator)
    token = receipts.sign(session, settings, payload, receipts.RECEIPT_TYP)
    return Receipt(consent.id, event.type, token, event.at, event.actor, event.actor_role)


# --- signed documents -----------------------------------------------------------------------


def signed_documents(session: Session, consent_id: uuid.UUID) -> list[SignedDocument]:
    """The consent's signed documents, oldest first."""
    return repo.documents_of(session, consent_id)


def signed_document(session: Session, consent: Consent, document_id: uuid.UUID) -> SignedDocument:
    """One signed document of this consent, else 404 ``unknown-document``."""
    row = repo.document(session, document_id)
    if row is None or row.consent_id != consent.id:
        raise NotFound("no such signed document", type="unknown-document")
    return row


def verify_pdf_hash(session: Session, pdf_sha256: str) -> verification.Result:
    """Is there a signed PDF with this SHA-256, and the state of its consent now."""
    row = repo.document_by_pdf_hash(session, pdf_sha256.lower())
    return verification.for_document(session, row)


# --- a subject's transfers and data ---------------------------------------------------------


def transfer_history(
    session: Session, settings: Settings, subject_id: uuid.UUID, limit: int
) -> list[tuple[Transfer, dict[str, Any] | None]]:
    """The subject's transfers, newest first, each with its audit inclusion proof (None for
    records made before transfers kept their event id)."""
    rows = repo.transfers_of_subject(session, subject_id, limit)
    proofs = flows.history_proofs(session, settings, rows)
    return [(t, proofs.get(t.id)) for t in rows]


def vault_data(
    session: Session, settings: Settings, subject_id: uuid.UUID
) -> list[tuple[VaultItem, Any]]:
    """The subject's vault items, oldest first, each with its (decrypted) value."""
    return [(i, vault.value_of(settings, i)) for i in repo.vault_items(session, subject_id)]


@dataclass(frozen=True)
class SubjectCategory:
    """A catalogued category Propusk holds about the subject or a consent of theirs named:
    what a rectification demand may name, with who keeps or received it."""

    key: str
    title: str
    special: bool
    biometric: bool
    held_by: tuple[str, ...]  # suppliers whose values of it the vault keeps
    consented_to: tuple[str, ...]  # operators of the consents (ever given) that name it


def subject_categories(session: Session, subject_id: uuid.UUID) -> list[SubjectCategory]:
    """The subject's categories, by the catalogue's title: held in the vault or named by a
    consent that was given (now in force or not: the data may have been processed)."""
    items = repo.vault_items(session, subject_id)
    consents = [c for c in repo.consents_of_subject(session, subject_id) if c.given_at]
    orgs = parties.many(session, [i.supplier_id for i in items] + [c.operator_id for c in consents])
    held: dict[str, set[str]] = {}
    named: dict[str, set[str]] = {}
    for i in items:
        held.setdefault(i.category_key, set()).add(_name(orgs, i.supplier_id))
    for c in consents:
        for key in c.categories:
            named.setdefault(key, set()).add(_name(orgs, c.operator_id))
    infos = catalogue_service.categories(session, [*held, *named])
    found = [
        SubjectCategory(
            key=info.key,
            title=info.title,
            special=info.special,
            biometric=info.biometric,
            held_by=tuple(sorted(held.get(info.key, ()))),
            consented_to=tuple(sorted(named.get(info.key, ()))),
        )
        for info in infos.values()
    ]
    return sorted(found, key=lambda c: c.title)


def _name(orgs: dict[uuid.UUID, Party], org_id: uuid.UUID) -> str:
    org = orgs.get(org_id)
    return org.name if org else "организация не зарегистрирована"
