"""SQLAlchemy models of the consent package (all tables prefixed ``consent_``).

The consent aggregate is one *current row* (``consent``) plus an append-only, hash-chained
event log (``consent_event``); both are written in the same transaction, the current row is
never edited without its event. Templates are immutable versions.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from propusk.db import Base, UTCDateTime, new_id, utcnow

FORMS = ("any", "written")
STATES = (
    "requested",
    "partially_given",
    "given",
    "refused",
    "withdrawn",
    "revoked",
    "suspended",
    "expired",
)
TERMINAL_STATES = frozenset({"refused", "withdrawn", "revoked", "expired"})
PROFILE_ID = "consent_organization_profile.id"  # an operator or supplier (its registry id)


class OrganizationProfile(Base):
    """What consent needs to process data for a registered organisation (1:1, same id).

    The organisation itself — name, ИНН, ОГРН, address, kind — is the registry's
    (``idp.models.Organization``, read through ``consent.parties``); this row says where the
    recipient is and stores the data (art. 12, art. 18 part 5), its RKN registry number, and
    numbers its events feed.
    """

    __tablename__ = "consent_organization_profile"

    id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id"), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), default="RU")  # where the recipient is
    storage_country: Mapped[str] = mapped_column(String(2))
    storage_location: Mapped[str] = mapped_column(String(500))
    registry_number: Mapped[str] = mapped_column(String(64))
    cross_border_notice_ref: Mapped[str | None] = mapped_column(String(200))
    # The operator's events-feed counter: bumped under a row lock by every consent change, so
    # feed positions are assigned in commit order (a poller never skips a late commit).
    feed_pos: Mapped[int] = mapped_column(Integer, default=0)


class Category(Base):
    """A data category (dotted key); special/biometric force written consent.

    ``max_bytes``: the largest vault value a supplier may store (its compact JSON, UTF-8); none
    set → ``consent.catalogue.DEFAULT_MAX_BYTES``."""

    __tablename__ = "consent_category"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    special: Mapped[bool] = mapped_column(Boolean, default=False)
    biometric: Mapped[bool] = mapped_column(Boolean, default=False)
    encrypt: Mapped[bool] = mapped_column(Boolean, default=False)
    max_bytes: Mapped[int | None] = mapped_column(Integer)


class Purpose(Base):
    """A processing purpose with its legal basis."""

    __tablename__ = "consent_purpose"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    legal_basis: Mapped[str] = mapped_column(String(200))
    # Art. 10.1: making data public needs its own consent with the subject's conditions.
    dissemination: Mapped[bool] = mapped_column(Boolean, default=False)


class Template(Base):
    """An immutable consent template version (one purpose; the full Russian text + hash)."""

    __tablename__ = "consent_template"
    __table_args__ = (
        UniqueConstraint("operator_id", "key", "version", name="uq_consent_template_ver"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    operator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(PROFILE_ID))
    key: Mapped[str] = mapped_column(String(120))
    version: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8), default="ru")
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))
    purpose_key: Mapped[str] = mapped_column(ForeignKey("consent_purpose.key"))
    categories: Mapped[list[str]] = mapped_column(JSON)
    actions: Mapped[list[str]] = mapped_column(JSON)
    processing_methods: Mapped[list[str]] = mapped_column(JSON)
    processor: Mapped[str | None] = mapped_column(String(500))
    conditions: Mapped[str | None] = mapped_column(Text)  # RKN Order 18 (dissemination)
    term_days: Mapped[int] = mapped_column(Integer)
    withdrawal_method: Mapped[str] = mapped_column(Text)
    form: Mapped[str] = mapped_column(String(8))
    request_ttl_days: Mapped[int] = mapped_column(Integer, default=30)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Consent(Base):
    """The current row of one consent (request → given → withdrawn …); see ``ConsentEvent``."""

    __tablename__ = "consent"
    __table_args__ = (Index("ix_consent_gate", "subject_id", "operator_id", "purpose_key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    operator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(PROFILE_ID))
    supplier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(PROFILE_ID))
    template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent_template.id"))
    purpose_key: Mapped[str] = mapped_column(String(120))
    categories: Mapped[list[str]] = mapped_column(JSON)
    actions: Mapped[list[str]] = mapped_column(JSON)
    form: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(20))
    age_rule: Mapped[str] = mapped_column(String(10))  # under14 | 14to17 | adult at request
    signatures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    request_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    given_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when only a representative signed: the day the subject turns 18 ends that authority.
    representative_until: Mapped[date | None] = mapped_column(Date)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsentEvent(Base):
    """One append-only, hash-chained change of a consent (chain per consent).

    ``pos`` is the position in the operator's feed (see ``OrganizationProfile.feed_pos``).
    """

    __tablename__ = "consent_event"
    __table_args__ = (
        UniqueConstraint("consent_id", "seq", name="uq_consent_event_seq"),
        UniqueConstraint("operator_id", "pos", name="uq_consent_event_feed"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    pos: Mapped[int] = mapped_column(Integer)
    consent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent.id"))
    operator_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(500))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Transfer(Base):
    """Every gate decision, allowed or refused: who, what, purpose, basis."""

    __tablename__ = "consent_transfer"
    __table_args__ = (Index("ix_consent_transfer_subject", "subject_id", "at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    channel: Mapped[str] = mapped_column(String(16))  # pull | ticket | redeem | check
    actor: Mapped[str] = mapped_column(String(200))
    operator_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    supplier_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    purpose_key: Mapped[str] = mapped_column(String(120))
    requested: Mapped[list[str]] = mapped_column(JSON)
    allowed: Mapped[list[str]] = mapped_column(JSON)
    refused: Mapped[dict[str, str]] = mapped_column(JSON)
    consent_ids: Mapped[list[str]] = mapped_column(JSON)
    decision: Mapped[str] = mapped_column(String(10))  # allowed | partial | refused
    legal_basis: Mapped[str | None] = mapped_column(String(200))
    ticket_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    audit_event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # its gate.decision event
    # Allowed categories whose consent names a supplier → that supplier (only its vault value
    # of the category is released); None on records made before suppliers bound the gate.
    suppliers: Mapped[dict[str, str] | None] = mapped_column(JSON)


class VaultItem(Base):
    """Participant data pushed by a supplier, one row per (subject, category, supplier)."""

    __tablename__ = "consent_vault_item"
    __table_args__ = (
        UniqueConstraint("subject_id", "category_key", "supplier_id", name="uq_consent_vault_item"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    category_key: Mapped[str] = mapped_column(ForeignKey("consent_category.key"))
    supplier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(PROFILE_ID))
    value_json: Mapped[Any | None] = mapped_column(JSON)
    value_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Ticket(Base):
    """A short-lived signed transfer ticket (supplier → operator), redeemable once."""

    __tablename__ = "consent_ticket"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    supplier_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    operator_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    purpose_key: Mapped[str] = mapped_column(String(120))
    categories: Mapped[list[str]] = mapped_column(JSON)
    consent_ids: Mapped[list[str]] = mapped_column(JSON)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AccessRequest(Base):
    """An art. 14 access request by the subject or a representative."""

    __tablename__ = "consent_access_request"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    requested_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Check 10: one +5 WD extension with a reasoned notice, or a reasoned refusal.
    extended_due_date: Mapped[date | None] = mapped_column(Date)
    refusal_reason: Mapped[str | None] = mapped_column(Text)


class DestructionTask(Base):
    """The art. 21 part 5 clock: the operator must destroy the data and confirm."""

    __tablename__ = "consent_destruction_task"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    consent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent.id"), index=True)
    operator_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    categories: Mapped[list[str]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_date: Mapped[date] = mapped_column(Date)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by: Mapped[str | None] = mapped_column(String(200))


class WithdrawalAck(Base):
    """The operator's acknowledgement of a withdrawal or a demand to stop processing (one feed
    event): its staff member says processing has stopped — who and when (``consent.console``)."""

    __tablename__ = "consent_withdrawal_ack"

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent_event.id"), primary_key=True)
    operator_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    acknowledged_by: Mapped[str] = mapped_column(String(200))
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- 152-FZ obligations (checks 9–15; consent.obligations) --------------------------------

OBLIGATION_KINDS = (
    "stop_processing",  # 9: art. 21 part 5.1
    "access",  # 10: art. 14
    "rectification",  # 11: art. 20 part 3, art. 21 parts 1–2
    "unlawful",  # 12: art. 21 parts 1 and 3
    "destruction_deferred",  # 13: art. 21 part 6 (destruction impossible in 30 days)
    "incident",  # 14: art. 21 part 3.1
    "rkn_request",  # 15: art. 20 part 4
)


class Obligation(Base):
    """One statutory obligation (a demand, a request, an incident …) and its current status.

    The row is the current state; every change is an append-only ``ObligationEvent`` written in
    the same transaction, and every deadline is an ``ObligationClock``."""

    __tablename__ = "consent_obligation"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(24), index=True)
    status: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"), index=True)
    operator_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)  # None: the platform
    consent_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    access_request_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    destruction_task_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    filed_by: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class ObligationEvent(Base):
    """An append-only change of an obligation: who, when, why."""

    __tablename__ = "consent_obligation_event"
    __table_args__ = (UniqueConstraint("obligation_id", "seq", name="uq_consent_obl_event_seq"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    obligation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent_obligation.id"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ObligationClock(Base):
    """One deadline of an obligation; overdue ⇔ ``met_at`` is null and ``due_at`` has passed.

    ``due_date`` is the last (Moscow) day for working-day clocks; ``due_at`` the instant it is
    missed (the end of that day, or detection + 24/72 h for incidents)."""

    __tablename__ = "consent_obligation_clock"
    __table_args__ = (
        UniqueConstraint("obligation_id", "name", name="uq_consent_obl_clock"),
        Index("ix_consent_obl_clock_open", "met_at", "due_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    obligation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent_obligation.id"))
    name: Mapped[str] = mapped_column(String(24))
    due_date: Mapped[date | None] = mapped_column(Date)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Block(Base):
    """Art. 21 parts 1–3 and 6: the subject's categories are blocked (no transfer) while set.

    ``operator_id`` None blocks them for every operator."""

    __tablename__ = "consent_block"
    __table_args__ = (Index("ix_consent_block_subject", "subject_id", "lifted_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    operator_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    categories: Mapped[list[str]] = mapped_column(JSON)
    obligation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent_obligation.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SubjectNotice(Base):
    """A notice to the participant (art. 21 part 3: unlawful processing remedied or data
    destroyed), shown in their API."""

    __tablename__ = "consent_subject_notice"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    obligation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent_obligation.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    text: Mapped[str] = mapped_column(Text)


class SignedDocument(Base):
    """One signature's document (``consent.documents``): the hash of the text the signer was
    shown and the PDF given to them (AES-GCM under the KEK; its own hash for verification)."""

    __tablename__ = "consent_document"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    consent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consent.id"), index=True)
    signer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    role: Mapped[str] = mapped_column(String(16))
    document_sha256: Mapped[str] = mapped_column(String(64))
    pdf_sha256: Mapped[str] = mapped_column(String(64), index=True)
    pdf_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
