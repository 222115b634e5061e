"""Bodies and answers of data transfers: the vault, pulls, tickets and a subject's history.

Suppliers write a subject's values into the vault (``VaultValueIn``) and issue tickets
(``TicketIn``) that operators redeem (``RedeemIn``); operators pull from the vault. Each
transfer is decided by ``consent.gate`` (``TransferDecisionOut``: the keys ``consent.answers``
builds, shared with the pull fast lane) and recorded, so the subject sees it in their history
with its audit inclusion proof.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field

from consent.models import Transfer, VaultItem
from consent.schemas.base import Answer, Strict, Timestamp, iso

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


class TransferEntryOut(Answer):
    """One transfer of the subject's data, with the audit proof of its decision."""

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


def transfer_entry_out(t: Transfer, proof: dict[str, Any] | None) -> TransferEntryOut:
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
    )


class TransferHistoryOut(Answer):
    subject_id: uuid.UUID
    transfers: list[TransferEntryOut] = Field(description="newest first")


class HeldValueOut(Answer):
    category: str
    supplier_id: uuid.UUID
    value: Any
    updated_at: Timestamp


def held_value_out(item: VaultItem, value: Any) -> HeldValueOut:
    return HeldValueOut(
        category=item.category_key,
        supplier_id=item.supplier_id,
        value=value,
        updated_at=item.updated_at.isoformat(),
    )


class SubjectDataOut(Answer):
    """The values Propusk holds about the subject, by category and supplier."""

    subject_id: uuid.UUID
    data: list[HeldValueOut]
