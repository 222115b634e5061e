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


class SubjectCategoryOut(Answer):
    """A category the subject's rectification demand may name (the picker's option)."""

    key: str = Field(description="what the demand sends (categories: [key])")
    title: str = Field(description="the catalogue's Russian title: what the person reads")
    special: bool
    biometric: bool
    held_by: list[str] = Field(description="suppliers whose values of it Propusk keeps")
    consented_to: list[str] = Field(
        description="operators of the subject's consents (ever given) that name it"
    )


class SubjectCategoriesOut(Answer):
    """The catalogued categories held about the subject or named by their given consents."""

    subject_id: uuid.UUID
    categories: list[SubjectCategoryOut]


class AccessRequestBrief(Answer):
    id: uuid.UUID
    received_at: Timestamp
    due_date: Day
    answered_at: Timestamp | None


class SubjectBrief(Answer):
    id: uuid.UUID
    name: str


class CategoryTitle(Answer):
    key: str
    title: str = Field(description="the catalogue's Russian title")


class LegalBasisOut(Answer):
    consent_id: uuid.UUID
    consent_title: str = Field(description="«purpose title — operator name»")
    purpose: str
    purpose_title: str
    legal_basis: str = Field(description="as the catalogue states it")
    legal_basis_text: str = Field(description="the legal basis in Russian words")
    operator_name: str
    categories: list[CategoryTitle]
    state: str
    state_title: str = Field(description="the consent's state in Russian")
    given_at: Timestamp | None
    ended_at: Timestamp | None


class OrganizationBrief(Answer):
    id: uuid.UUID
    name: str
    inn: str
    ogrn: str
    address: str
    storage_location: str


class ProcessingOperatorOut(OrganizationBrief):
    consent_id: uuid.UUID
    purpose_title: str


class RecipientOut(Answer):
    transfer_id: uuid.UUID
    at: Timestamp
    operator: OrganizationBrief | None
    categories: list[str]
    category_titles: list[str]
    purpose: str
    purpose_title: str
    legal_basis: str | None
    legal_basis_text: str
    consent_ids: list[str]
    consent_titles: list[str] = Field(description="the consents relied on, by purpose and operator")


class RefusedCategoryOut(Answer):
    category: str
    category_title: str
    reason: str = Field(description="the gate's reason code")
    reason_title: str = Field(description="the reason in Russian")


class RefusedRequestOut(Answer):
    """A request for the subject's data the gate refused, wholly or for some categories."""

    transfer_id: uuid.UUID
    at: Timestamp
    operator_name: str
    purpose_title: str
    refused: list[RefusedCategoryOut]


class DataHeldOut(Answer):
    category: str
    category_title: str
    source: OrganizationBrief
    updated_at: Timestamp


class PeriodOut(Answer):
    consent_id: uuid.UUID
    consent_title: str
    state_title: str
    valid_from: Timestamp | None
    valid_until: Timestamp | None
    ended_at: Timestamp | None
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
    processing_method_titles: list[str]
    operators: list[ProcessingOperatorOut] = Field(
        description="the operators of the consents that were given (in force or ended)"
    )
    recipients: list[RecipientOut] = Field(description="transfers that released data")
    refused_requests: list[RefusedRequestOut] = Field(
        description="requests for the data that were refused (nothing or not all released)"
    )
    data_held: list[DataHeldOut]
    identity_data: list[str] = Field(
        description="what identity data Propusk keeps from ESIA (names of fields, no values)"
    )
    periods: list[PeriodOut] = Field(description="the consents that were given")
    rights_procedure: str
    rights: list[str] = Field(description="the subject's rights and where to exercise them")
    cross_border: list[CrossBorderOut]
    processors: list[str]


class AccessRefusalOut(Answer):
    """A reasoned refusal instead of the answer (art. 14 part 8, art. 20 part 2)."""

    request: AccessRequestBrief
    refused: Literal[True]
    refusal_reason: str | None
