"""Bodies and answers of signing and verification.

The participant reads the consent as a document (``DocumentOut``), signs it by sending back
its SHA-256 (``ApproveIn``) and receives the signed PDF's record (``SignedDocumentOut``).
Anyone holding a receipt or a PDF may check it (``VerifyIn`` → ``VerifyOut``).
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from consent import signing, verification
from consent.models import Consent, SignedDocument
from consent.schemas.base import Answer, Strict, Timestamp, iso
from consent.schemas.ledger import ConsentOut, consent_fields

Sha256 = Field(min_length=64, max_length=64, pattern=r"^[0-9a-f]{64}$")


class ApproveIn(Strict):
    """A signature: the SHA-256 of the document the signer was shown (``GET …/document``)."""

    document_sha256: str = Sha256


class DocumentSection(BaseModel):
    title: str
    lines: list[str]


class DocumentOut(Answer):
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


def document_out(prepared: signing.Prepared, needed_roles: set[str]) -> DocumentOut:
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
        needed_roles=sorted(needed_roles),
    )


class SignedDocumentOut(Answer):
    """The record of one signature: the signed PDF and the hashes that identify it."""

    id: uuid.UUID
    role: str = Field(description="subject | guardian")
    document_sha256: str
    pdf_sha256: str
    pdf: str = Field(description="where the signer downloads the PDF")
    created_at: Timestamp | None


def signed_document_out(row: SignedDocument) -> SignedDocumentOut:
    return SignedDocumentOut(
        id=row.id,
        role=row.role,
        document_sha256=row.document_sha256,
        pdf_sha256=row.pdf_sha256,
        pdf=f"/api/v1/consents/{row.consent_id}/documents/{row.id}.pdf",
        created_at=iso(row.created_at),
    )


class ApprovedOut(ConsentOut):
    """The consent after the signature, and the signed document."""

    document: SignedDocumentOut


def approved_out(consent: Consent, row: SignedDocument) -> ApprovedOut:
    return ApprovedOut(**consent_fields(consent), document=signed_document_out(row))


class VerifyIn(Strict):
    """A receipt (JWS) or the SHA-256 of a signed PDF."""

    receipt: str | None = Field(default=None, max_length=65536)
    pdf_sha256: str | None = Field(default=None, min_length=64, max_length=64)


class VerifyOut(Answer):
    valid: bool
    kind: str
    reason: str | None = None
    consent_id: uuid.UUID | None = None
    state: str | None = None
    operator: str | None = None
    purpose: str | None = None
    categories: list[str] = []


def verify_out(result: verification.Result) -> VerifyOut:
    return VerifyOut(**{k: getattr(result, k) for k in VerifyOut.model_fields})
