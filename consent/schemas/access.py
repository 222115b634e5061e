"""Answers of a subject access request (152-FZ art. 14).

The participant (or their representative) files a request (``AccessRequestOut``); the answer
(``AccessAnswerOut``, built by ``consent.access.access_answer`` from the ledger, the vault and
the transfer log) lists the items of art. 14 part 7 — or, when the operator refused in time
with reasons (art. 14 part 8), ``AccessRefusalOut``.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from consent.models import AccessRequest
from consent.schemas.base import Answer, Day, Timestamp, iso


class AccessRequestOut(Answer):
    id: uuid.UUID
    subject_id: uuid.UUID
    received_at: Timestamp | None
    due_date: Day = Field(description="10 working days from receipt")
    status: str = Field(description="open | answered | refused")
    answered_at: Timestamp | None
    extended_due_date: Day | None = Field(description="+5 working days with a reasoned notice")
    refusal_reason: str | None


def access_request_out(r: AccessRequest) -> AccessRequestOut:
    return AccessRequestOut(
        id=r.id,
        subject_id=r.subject_id,
        received_at=iso(r.received_at),
        due_date=r.due_date.isoformat(),
        status=r.status,
        answered_at=iso(r.answered_at),
        extended_due_date=iso(r.extended_due_date),
        refusal_reason=r.refusal_reason,
    )


class AccessRequestBrief(Answer):
    id: uuid.UUID
    received_at: Timestamp
    due_date: Day
    answered_at: Timestamp | None


class SubjectBrief(Answer):
    id: uuid.UUID
    name: str


class LegalBasisOut(Answer):
    consent_id: uuid.UUID
    purpose: str
    purpose_title: str
    legal_basis: str
    state: str


class OrganizationBrief(Answer):
    id: uuid.UUID
    name: str
    inn: str
    ogrn: str
    address: str
    storage_location: str


class ProcessingOperatorOut(OrganizationBrief):
    consent_id: uuid.UUID


class RecipientOut(Answer):
    transfer_id: uuid.UUID
    at: Timestamp
    operator: OrganizationBrief | None
    categories: list[str]
    purpose: str
    legal_basis: str | None
    consent_ids: list[str]


class DataHeldOut(Answer):
    category: str
    source: OrganizationBrief
    updated_at: Timestamp


class PeriodOut(Answer):
    consent_id: uuid.UUID
    valid_from: Timestamp | None
    valid_until: Timestamp | None
    term_days: int


class CrossBorderOut(OrganizationBrief):
    notice_ref: str | None


class AccessAnswerOut(Answer):
    """The art. 14 part 7 answer: what is processed, on what basis, by whom, for how long."""

    request: AccessRequestBrief
    subject: SubjectBrief
    processing_confirmed: bool
    legal_bases_and_purposes: list[LegalBasisOut]
    processing_methods: list[str]
    operators: list[ProcessingOperatorOut]
    recipients: list[RecipientOut] = Field(description="transfers that released data")
    data_held: list[DataHeldOut]
    periods: list[PeriodOut]
    rights_procedure: str
    cross_border: list[CrossBorderOut]
    processors: list[str]


class AccessRefusalOut(Answer):
    """A reasoned refusal instead of the answer (art. 14 part 8, art. 20 part 2)."""

    request: AccessRequestBrief
    refused: Literal[True]
    refusal_reason: str | None
