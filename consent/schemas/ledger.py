"""Bodies and answers of the consent ledger: requests, consents, their events and receipts.

An operator asks (``ConsentRequestIn``) and may end its own consent (``RevokeIn``); the
participant or their representative answers, withdraws or suspends (``AnswerIn``). Every
change is an event of the consent's hash chain (``ConsentEventOut``), also read by operators as
their withdrawal feed; a withdrawal starts a destruction task (``DestructionTaskOut``).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from pydantic import Field

from consent.models import Consent, ConsentEvent, DestructionTask
from consent.schemas.base import (
    Answer,
    Day,
    OrganizationRefOut,
    Strict,
    Timestamp,
    TitledOut,
    iso,
    organization_ref,
)

if TYPE_CHECKING:  # the views are built by consent.participant (a service module)
    from consent.participant import ConsentView, Consequences, Names


# --- bodies -----------------------------------------------------------------------------------


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


# --- consents ---------------------------------------------------------------------------------


class ConsentOut(Answer):
    """A consent (or a request for one) and its state."""

    id: uuid.UUID
    subject_id: uuid.UUID
    operator_id: uuid.UUID
    supplier_id: uuid.UUID | None = Field(description="the supplier the consent names, if any")
    template_id: uuid.UUID
    purpose: str
    categories: list[str]
    actions: list[str]
    form: str = Field(description="any | written")
    state: str = Field(
        description="requested | partially_given | given | refused | withdrawn | revoked | "
        "suspended | expired"
    )
    age_rule: str = Field(description="under14 | 14to17 | adult: who signs")
    signatures: list[dict[str, Any]]
    requested_at: Timestamp | None
    request_expires_at: Timestamp | None
    given_at: Timestamp | None
    valid_from: Timestamp | None
    valid_until: Timestamp | None
    ended_at: Timestamp | None


def consent_fields(c: Consent) -> dict[str, Any]:
    """The fields of ``ConsentOut`` (answers that extend it add their own)."""
    return {
        "id": c.id,
        "subject_id": c.subject_id,
        "operator_id": c.operator_id,
        "supplier_id": c.supplier_id,
        "template_id": c.template_id,
        "purpose": c.purpose_key,
        "categories": c.categories,
        "actions": c.actions,
        "form": c.form,
        "state": c.state,
        "age_rule": c.age_rule,
        "signatures": c.signatures,
        "requested_at": iso(c.requested_at),
        "request_expires_at": iso(c.request_expires_at),
        "given_at": iso(c.given_at),
        "valid_from": iso(c.valid_from),
        "valid_until": iso(c.valid_until),
        "ended_at": iso(c.ended_at),
    }


def consent_out(c: Consent) -> ConsentOut:
    return ConsentOut(**consent_fields(c))


class ConsentRequestOut(ConsentOut):
    """A new consent request and where to send the person to sign it."""

    signing_url: str = Field(
        description="Propusk's signing page; add return_uri (registered for this client) and state"
    )


class ConsentEventOut(Answer):
    """One event of a consent's hash chain (``pos``: its place in the operator's feed)."""

    pos: int
    id: uuid.UUID
    consent_id: uuid.UUID
    subject_id: uuid.UUID
    seq: int
    type: str
    from_state: str | None
    to_state: str
    actor_role: str
    at: Timestamp | None
    reason: str | None
    hash: str
    prev_hash: str


def consent_event_out(e: ConsentEvent) -> ConsentEventOut:
    return ConsentEventOut(
        pos=e.pos,
        id=e.id,
        consent_id=e.consent_id,
        subject_id=e.subject_id,
        seq=e.seq,
        type=e.type,
        from_state=e.from_state,
        to_state=e.to_state,
        actor_role=e.actor_role,
        at=iso(e.at),
        reason=e.reason,
        hash=e.hash,
        prev_hash=e.prev_hash,
    )


class ConsentWithEventsOut(ConsentOut):
    """A consent with its whole event chain."""

    events: list[ConsentEventOut]


class ConsentFeedOut(Answer):
    """The operator's consent events after ``since``; ask again with ``since=next``."""

    events: list[ConsentEventOut]
    next: int


# --- a participant's view ---------------------------------------------------------------------


class DestructionStateOut(Answer):
    """The clock an ended consent started: the operator destroys (or stops disseminating) the
    data by ``due_date`` and confirms it (``confirmed_at``)."""

    reason: str = Field(description="withdrawn | revoked | expired | dissemination_stop")
    due_date: Day
    confirmed_at: Timestamp | None


class SubjectConsentOut(ConsentOut):
    """A consent as its subject reads it: the names behind the keys and ids."""

    operator: OrganizationRefOut | None
    supplier: OrganizationRefOut | None
    purpose_title: str
    category_titles: list[TitledOut] = Field(description="the categories, in order, titled")
    destruction: DestructionStateOut | None


def subject_consent_out(view: ConsentView, names: Names) -> SubjectConsentOut:
    c, task = view.consent, view.destruction
    destruction = None
    if task is not None:
        destruction = DestructionStateOut(
            reason=task.reason,
            due_date=task.due_date.isoformat(),
            confirmed_at=iso(task.confirmed_at),
        )
    return SubjectConsentOut(
        **consent_fields(c),
        operator=organization_ref(names.party(c.operator_id)),
        supplier=organization_ref(names.party(c.supplier_id)),
        purpose_title=names.purpose(c.purpose_key),
        category_titles=[TitledOut(key=k, title=names.category(k)) for k in c.categories],
        destruction=destruction,
    )


class SubjectConsentsOut(Answer):
    subject_id: uuid.UUID
    consents: list[SubjectConsentOut]


class SubjectRequestsOut(Answer):
    subject_id: uuid.UUID
    requests: list[SubjectConsentOut] = Field(description="requests waiting for an answer")


class ConsequencesOut(Answer):
    """What a withdrawal or a demand to stop processing made now would start."""

    consent_id: uuid.UUID
    state: str
    can_withdraw: bool
    withdraw_kind: str | None = Field(description="destruction | dissemination_stop | null")
    withdraw_due: Day | None = Field(
        description="the operator destroys the data (30 days) or stops disseminating it "
        "(3 working days) by this day; null when the consent was never given"
    )
    can_stop: bool = Field(description="a demand to stop processing suspends it at once")
    stop_due: Day | None = Field(description="the operator answers the demand by this day")
    ends_for_all: bool = Field(description="14–17: either signer's withdrawal ends it")


def consequences_out(c: Consequences) -> ConsequencesOut:
    return ConsequencesOut(
        consent_id=c.consent.id,
        state=c.consent.state,
        can_withdraw=c.can_withdraw,
        withdraw_kind=c.withdraw_kind,
        withdraw_due=iso(c.withdraw_due),
        can_stop=c.can_stop,
        stop_due=iso(c.stop_due),
        ends_for_all=c.ends_for_all,
    )


class ConsentReceiptOut(Answer):
    """A signed receipt (JWS, ``typ`` consent-receipt) of a grant or a withdrawal."""

    consent_id: uuid.UUID
    event: str = Field(description="given | withdrawn")
    receipt: str = Field(description="compact JWS, verifiable with the service JWKS")


# --- destruction tasks ------------------------------------------------------------------------


class DestructionTaskOut(Answer):
    """A destruction task: the operator destroys the categories by ``due_date`` (30 days)."""

    id: uuid.UUID
    consent_id: uuid.UUID
    operator_id: uuid.UUID
    subject_id: uuid.UUID
    categories: list[str]
    reason: str
    started_at: Timestamp | None
    due_date: Day
    confirmed_at: Timestamp | None


def destruction_task_out(t: DestructionTask) -> DestructionTaskOut:
    return DestructionTaskOut(
        id=t.id,
        consent_id=t.consent_id,
        operator_id=t.operator_id,
        subject_id=t.subject_id,
        categories=t.categories,
        reason=t.reason,
        started_at=iso(t.started_at),
        due_date=t.due_date.isoformat(),
        confirmed_at=iso(t.confirmed_at),
    )


class DestructionTasksOut(Answer):
    tasks: list[DestructionTaskOut]
