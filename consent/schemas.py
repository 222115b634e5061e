"""Request bodies (pydantic, strict: unknown fields are refused) and response shapes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from consent.models import (
    AccessRequest,
    Consent,
    ConsentEvent,
    DestructionTask,
    Organization,
    Template,
    Transfer,
)

Key = Field(min_length=3, max_length=120, pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


def _no_nul(value: Any, path: str = "body") -> None:
    """PostgreSQL text cannot hold NUL: refuse it up front (422), never fail at the INSERT."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{path}: NUL characters are not allowed")
    elif isinstance(value, dict):
        for k, v in value.items():
            _no_nul(k, path)
            _no_nul(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _no_nul(v, f"{path}[{i}]")


class Strict(BaseModel):
    """Unknown fields are refused; so is NUL anywhere in the body."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        _no_nul(data)
        return data


class OrganizationIn(Strict):
    kind: Literal["operator", "supplier"]
    name: str = Field(min_length=1, max_length=500)
    inn: str = Field(pattern=r"^\d{10}(\d{2})?$")
    ogrn: str = Field(pattern=r"^\d{13}(\d{2})?$")
    address: str = Field(min_length=1, max_length=1000)
    country: str = Field(default="RU", pattern=r"^[A-Z]{2}$")
    storage_country: str = Field(min_length=2, max_length=2)
    storage_location: str = Field(min_length=1, max_length=500)
    registry_number: str = Field(min_length=1, max_length=64)
    cross_border_notice_ref: str | None = Field(default=None, max_length=200)
    esia_org_oid: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^\d+$")
    client_id: str | None = Field(default=None, min_length=1, max_length=200)


class CategoryIn(Strict):
    key: str = Key
    title: str = Field(min_length=1, max_length=300)
    special: bool = False
    biometric: bool = False
    encrypt: bool = False
    max_bytes: int | None = Field(default=None, ge=1, le=16 * 1024 * 1024)


class PurposeIn(Strict):
    key: str = Key
    title: str = Field(min_length=1, max_length=500)
    legal_basis: str = Field(min_length=1, max_length=200)
    dissemination: bool = False


class CatalogueIn(Strict):
    categories: list[CategoryIn] = Field(default_factory=list, max_length=500)
    purposes: list[PurposeIn] = Field(default_factory=list, max_length=500)


class TemplateIn(Strict):
    key: str = Key
    language: str = Field(default="ru", max_length=8)
    text: str = Field(default="", max_length=100_000)
    purpose: str = Field(default="", max_length=120)
    categories: list[str] = Field(default_factory=list, max_length=100)
    actions: list[str] = Field(default_factory=list, max_length=20)
    processing_methods: list[str] = Field(default_factory=list, max_length=3)
    processor: str | None = Field(default=None, max_length=500)
    conditions: str | None = Field(default=None, max_length=20_000)
    term_days: int = Field(default=0, ge=0, le=100_000)
    withdrawal_method: str = Field(default="", max_length=5000)
    form: Literal["any", "written"] = "any"
    request_ttl_days: int = Field(default=30, ge=1, le=365)
    valid_until: AwareDatetime | None = None


class ConsentRequestIn(Strict):
    template_id: uuid.UUID
    subject_id: uuid.UUID
    purpose: str | None = Field(default=None, max_length=120)
    categories: list[str] | None = Field(default=None, max_length=100)
    supplier_id: uuid.UUID | None = None


class AnswerIn(Strict):
    reason: str | None = Field(default=None, max_length=500)


class RevokeIn(Strict):
    reason: str = Field(min_length=1, max_length=500)


class VaultValueIn(Strict):
    value: Any


class TicketIn(Strict):
    operator_id: uuid.UUID
    subject_id: uuid.UUID
    purpose: str = Field(min_length=1, max_length=120)
    categories: list[str] = Field(min_length=1, max_length=50)


class RedeemIn(Strict):
    ticket: str = Field(min_length=10, max_length=20_000)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def organization_out(org: Organization) -> dict[str, Any]:
    return {
        "id": str(org.id),
        "kind": org.kind,
        "name": org.name,
        "inn": org.inn,
        "ogrn": org.ogrn,
        "address": org.address,
        "country": org.country,
        "storage_country": org.storage_country,
        "cross_border_notice_ref": org.cross_border_notice_ref,
        "storage_location": org.storage_location,
        "registry_number": org.registry_number,
        "client_id": org.client_id,
    }


def template_out(t: Template) -> dict[str, Any]:
    return {
        "id": str(t.id),
        "operator_id": str(t.operator_id),
        "key": t.key,
        "version": t.version,
        "language": t.language,
        "text": t.text,
        "text_hash": t.text_hash,
        "purpose": t.purpose_key,
        "categories": t.categories,
        "actions": t.actions,
        "processing_methods": t.processing_methods,
        "processor": t.processor,
        "conditions": t.conditions,
        "term_days": t.term_days,
        "withdrawal_method": t.withdrawal_method,
        "form": t.form,
        "request_ttl_days": t.request_ttl_days,
        "valid_until": _iso(t.valid_until),
        "published_at": _iso(t.published_at),
    }


def consent_out(c: Consent) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "subject_id": str(c.subject_id),
        "operator_id": str(c.operator_id),
        "supplier_id": str(c.supplier_id) if c.supplier_id else None,
        "template_id": str(c.template_id),
        "purpose": c.purpose_key,
        "categories": c.categories,
        "actions": c.actions,
        "form": c.form,
        "state": c.state,
        "age_rule": c.age_rule,
        "signatures": c.signatures,
        "requested_at": _iso(c.requested_at),
        "request_expires_at": _iso(c.request_expires_at),
        "given_at": _iso(c.given_at),
        "valid_from": _iso(c.valid_from),
        "valid_until": _iso(c.valid_until),
        "ended_at": _iso(c.ended_at),
    }


def event_out(e: ConsentEvent) -> dict[str, Any]:
    return {
        "pos": e.pos,
        "id": str(e.id),
        "consent_id": str(e.consent_id),
        "subject_id": str(e.subject_id),
        "seq": e.seq,
        "type": e.type,
        "from_state": e.from_state,
        "to_state": e.to_state,
        "actor_role": e.actor_role,
        "at": _iso(e.at),
        "reason": e.reason,
        "hash": e.hash,
        "prev_hash": e.prev_hash,
    }


def transfer_out(t: Transfer) -> dict[str, Any]:
    return {
        "id": str(t.id),
        "at": _iso(t.at),
        "channel": t.channel,
        "operator_id": str(t.operator_id) if t.operator_id else None,
        "supplier_id": str(t.supplier_id) if t.supplier_id else None,
        "subject_id": str(t.subject_id),
        "purpose": t.purpose_key,
        "requested": t.requested,
        "allowed": t.allowed,
        "refused": t.refused,
        "consent_ids": t.consent_ids,
        "decision": t.decision,
        "legal_basis": t.legal_basis,
    }


def task_out(t: DestructionTask) -> dict[str, Any]:
    return {
        "id": str(t.id),
        "consent_id": str(t.consent_id),
        "operator_id": str(t.operator_id),
        "subject_id": str(t.subject_id),
        "categories": t.categories,
        "reason": t.reason,
        "started_at": _iso(t.started_at),
        "due_date": t.due_date.isoformat(),
        "confirmed_at": _iso(t.confirmed_at),
    }


def access_request_out(r: AccessRequest) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "subject_id": str(r.subject_id),
        "received_at": _iso(r.received_at),
        "due_date": r.due_date.isoformat(),
        "status": r.status,
        "answered_at": _iso(r.answered_at),
        "extended_due_date": r.extended_due_date.isoformat() if r.extended_due_date else None,
        "refusal_reason": r.refusal_reason,
    }


# --- 152-FZ obligations (consent.obligations) ---------------------------------------------

Text = Field(min_length=1, max_length=4000)
Ref = Field(min_length=1, max_length=500)


class StopProcessingIn(Strict):
    """Check 9: a demand to stop processing (of one consent's data or by one operator)."""

    consent_id: uuid.UUID | None = None
    operator_id: uuid.UUID | None = None
    reason: str | None = Field(default=None, max_length=4000)


class RectificationIn(Strict):
    """Check 11: what is wrong, and the proof (a document reference or description)."""

    categories: list[str] = Field(min_length=1, max_length=50)
    operator_id: uuid.UUID | None = None
    correction: str = Text
    proof: str = Text


class UnlawfulIn(Strict):
    subject_id: uuid.UUID
    categories: list[str] = Field(min_length=1, max_length=50)
    operator_id: uuid.UUID | None = None
    reason: str = Text


class IncidentIn(Strict):
    detected_at: AwareDatetime
    description: str = Text
    subjects_affected: int | None = Field(default=None, ge=0, le=10**9)
    categories: list[str] = Field(default_factory=list, max_length=50)
    operator_id: uuid.UUID | None = None


class RknRequestIn(Strict):
    received_at: AwareDatetime
    rkn_ref: str = Ref
    summary: str = Text
    operator_id: uuid.UUID | None = None


class DeferIn(Strict):
    reason: str = Text


class Performer(Strict):
    name: str = Field(min_length=1, max_length=300)
    position: str = Field(min_length=1, max_length=300)


class DestructionActIn(Strict):
    """RKN Order 179: who destroyed what, how, when, with the processing-log extract."""

    destroyed_on: date
    method: str = Text
    performed_by: list[Performer] = Field(min_length=1, max_length=20)
    carriers: str = Text
    log_extract_ref: str = Ref


class ObligationActionIn(Strict):
    action: Literal[
        "extend",
        "stopped",
        "refuse",
        "rectified",
        "rejected",
        "remedied",
        "destroyed",
        "rkn_notified",
        "results_sent",
        "answered",
    ]
    reason: str | None = Field(default=None, max_length=4000)
    ref: str | None = Field(default=None, max_length=500)
    act: DestructionActIn | None = None


# --- signing (consent.signing, consent.documents) -------------------------------------------
Sha256 = Field(min_length=64, max_length=64, pattern=r"^[0-9a-f]{64}$")


class ApproveIn(Strict):
    """A signature: the SHA-256 of the document the signer was shown (``GET …/document``)."""

    document_sha256: str = Sha256


class DocumentSection(BaseModel):
    title: str
    lines: list[str]


class DocumentOut(BaseModel):
    """The consent as the document one signer signs."""

    consent_id: uuid.UUID
    heading: str
    role: str = Field(description="subject | guardian: as whom the caller signs")
    age_group: str
    form: str
    sections: list[DocumentSection]
    text: str = Field(description="the canonical text whose SHA-256 is signed")
    sha256: str
    signatures: list[dict[str, Any]] = Field(description="who has signed already")
    needed_roles: list[str] = Field(description="who must sign for the consent to be given")


def document_out(prepared) -> DocumentOut:
    from consent.service import required_roles

    doc = prepared.document
    return DocumentOut(
        consent_id=doc.consent_id,
        heading=doc.heading,
        role=doc.role,
        age_group=prepared.age_group,
        form=prepared.consent.form,
        sections=[DocumentSection(title=s.title, lines=list(s.lines)) for s in doc.sections],
        text=doc.text,
        sha256=doc.sha256,
        signatures=list(prepared.consent.signatures),
        needed_roles=sorted(required_roles(prepared.age_group)),
    )


def signed_document_out(row) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "role": row.role,
        "document_sha256": row.document_sha256,
        "pdf_sha256": row.pdf_sha256,
        "pdf": f"/api/v1/consents/{row.consent_id}/documents/{row.id}.pdf",
        "created_at": _iso(row.created_at),
    }


class VerifyIn(Strict):
    """A receipt (JWS) or the SHA-256 of a signed PDF."""

    receipt: str | None = Field(default=None, max_length=65536)
    pdf_sha256: str | None = Field(default=None, min_length=64, max_length=64)


class VerifyOut(BaseModel):
    valid: bool
    kind: str
    reason: str | None = None
    consent_id: uuid.UUID | None = None
    state: str | None = None
    operator: str | None = None
    purpose: str | None = None
    categories: list[str] = []
