"""Bodies and answers of data transfers: the vault, pulls, tickets and a subject's history.

Suppliers write a subject's values into the vault (``VaultValueIn``) and issue tickets
(``TicketIn``) that operators redeem (``RedeemIn``); operators pull from the vault. Each
transfer is decided by ``consent.gate`` (``TransferDecisionOut``: the keys ``consent.answers``
builds, shared with the pull fast lane) and recorded, so the subject sees it in their history
with its audit inclusion proof.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from pydantic import Field

from consent.models import VaultItem
from consent.schemas.base import (
    Answer,
    OrganizationRefOut,
    Strict,
    Timestamp,
    iso,
    organization_ref,
)

if TYPE_CHECKING:  # the views are built by consent.participant (a service module)
    from consent.participant import Names, TransferView


# --- bodies -----------------------------------------------------------------------------------


class VaultValueIn(Strict):
    value: Any


class TicketIn(Strict):
    operator_id: uuid.UUID
    subject_id: uuid.UUID
    purpose: str = Field(min_length=1, max_length=120)
    categories: list[str] = Field(min_length=1, max_length=50)


class RedeemIn(Strict):
    ticket: str = Field(min_length=10, max_length=20_000)


# --- decisions (consent.answers.decision_body) ----------------------------------------------


class TransferDecisionOut(Answer):
    """A transfer decision: which categories go, on which consent, which are refused why."""

    transfer_id: uuid.UUID
    decision: str = Field(description="allowed | partial | refused")
    subject_id: uuid.UUID
    purpose: str
    allowed: list[str]
    consent_ids: list[str]
    allowed_by: dict[str, str] = Field(description="category → the consent relied on")
    refused: dict[str, str] = Field(description="category → machine-readable reason")
    suppliers: dict[str, str] = Field(
        description="category → the only supplier whose value may be released"
    )


class PulledOut(TransferDecisionOut):
    """The decision and the allowed categories' values."""

    data: dict[str, Any] | None = Field(description="category → value")


class TicketOut(TransferDecisionOut):
    """The decision and the ticket (JWS) the operator redeems."""

    ticket: str


class VaultWriteOut(Answer):
    subject_id: uuid.UUID
    category: str
    id: uuid.UUID = Field(description="the vault item")


# --- a subject's history and data -----------------------------------------------------------


class TransferItemOut(Answer):
    """One requested category of a transfer: given (on which consent) or refused (why)."""

    category: str
    title: str
    outcome: str = Field(description="given | refused")
    reason: str | None = Field(description="the gate's refusal reason (refused only)")
    consent_id: uuid.UUID | None = Field(description="the consent relied on (given only)")


class TransferEntryOut(Answer):
    """One transfer of the subject's data, with the audit proof of its decision and the names
    a person reads (operator, supplier, purpose and categories titled)."""

    id: uuid.UUID
    at: Timestamp | None
    channel: str = Field(description="pull | ticket | redeem | check")
    operator_id: uuid.UUID | None
    supplier_id: uuid.UUID | None
    subject_id: uuid.UUID
    purpose: str
    requested: list[str]
    allowed: list[str]
    refused: dict[str, str]
    consent_ids: list[str]
    decision: str
    legal_basis: str | None
    audit: dict[str, Any] | None = Field(
        description="inclusion proof of its gate.decision event against a signed checkpoint "
        '({"event_id", "pending": true} until sequenced); null for old records'
    )
    operator: OrganizationRefOut | None
    supplier: OrganizationRefOut | None
    purpose_title: str
    items: list[TransferItemOut] = Field(description="requested categories, in order")


def _items(view: TransferView, names: Names) -> list[TransferItemOut]:
    t = view.transfer
    keys = list(dict.fromkeys([*t.requested, *t.refused]))
    return [
        TransferItemOut(
            category=k,
            title=names.category(k),
            outcome="refused" if k in t.refused else "given",
            reason=t.refused.get(k),
            consent_id=view.relied_on.get(k),
        )
        for k in keys
        if k in t.refused or k in t.allowed
    ]


def transfer_entry_out(view: TransferView, names: Names) -> TransferEntryOut:
    t, proof = view.transfer, view.proof
    return TransferEntryOut(
        id=t.id,
        at=iso(t.at),
        channel=t.channel,
        operator_id=t.operator_id,
        supplier_id=t.supplier_id,
        subject_id=t.subject_id,
        purpose=t.purpose_key,
        requested=t.requested,
        allowed=t.allowed,
        refused=t.refused,
        consent_ids=t.consent_ids,
        decision=t.decision,
        legal_basis=t.legal_basis,
        audit=proof,
        operator=organization_ref(names.party(t.operator_id)),
        supplier=organization_ref(names.party(t.supplier_id)),
        purpose_title=names.purpose(t.purpose_key),
        items=_items(view, names),
    )


class TransferHistoryOut(Answer):
    subject_id: uuid.UUID
    transfers: list[TransferEntryOut] = Field(description="newest first")


class HeldValueOut(Answer):
    category: str
    supplier_id: uuid.UUID
    value: Any
    updated_at: Timestamp
    title: str = Field(description="the category's title")
    supplier: OrganizationRefOut | None


def held_value_out(item: VaultItem, value: Any, names: Names) -> HeldValueOut:
    return HeldValueOut(
        category=item.category_key,
        supplier_id=item.supplier_id,
        value=value,
        updated_at=item.updated_at.isoformat(),
        title=names.category(item.category_key),
        supplier=organization_ref(names.party(item.supplier_id)),
    )


class SubjectDataOut(Answer):
    """The values Propusk holds about the subject, by category and supplier."""

    subject_id: uuid.UUID
    data: list[HeldValueOut]
