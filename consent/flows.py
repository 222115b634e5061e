"""Gated transfers: policy (route) → gate → transfer record → vault/ticket → audit, one transaction.

Every decision, allowed or refused, is written as a ``consent_transfer`` row and a
``gate.decision`` audit event in the transaction that made it, so the caller must let a refused
decision commit too (routes return the 403 body instead of raising).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from audit.service import proofs_for_events, record_deferred
from consent import catalogue, receipts, vault
from consent import repository as repo
from consent.gate import Decision, decide
from consent.models import Organization, Ticket, Transfer
from consent.service import require_categories, require_purpose
from propusk.errors import Conflict, Forbidden, Problem, ValidationProblem
from propusk.settings import Settings

TICKET_TTL = timedelta(minutes=5)
MAX_CATEGORIES = 50


@dataclass
class Outcome:
    decision: Decision
    transfer: Transfer
    data: dict[str, Any] | None = None
    ticket: str | None = None


def _validate(session: Session, purpose: str, categories: list[str]) -> None:
    """Bad input is a 4xx before any decision: unknown purpose or category, empty list."""
    if not categories or len(categories) > MAX_CATEGORIES:
        raise ValidationProblem(f"give 1..{MAX_CATEGORIES} categories", type="bad-categories")
    require_purpose(session, purpose)
    require_categories(session, categories)


def gated_transfer(
    session: Session,
    *,
    operator_id: uuid.UUID,
    subject_id: uuid.UUID,
    purpose: str,
    categories: list[str],
    channel: str,
    actor: str,
    now: datetime,
    supplier_id: uuid.UUID | None = None,
    ticket_id: uuid.UUID | None = None,
    ticket_if_allowed: uuid.UUID | None = None,
    load: Callable[[Decision], Any] | None = None,
    vault_settings: Settings | None = None,
) -> tuple[Decision, Transfer, Any]:
    """Decide and record one transfer (the decision and its record share the transaction).

    The ``gate.decision`` event goes to the audit outbox (``record_deferred``: no sequencer
    lock, so concurrent gated reads do not queue behind each other); its id is stored on the
    transfer record, which is how the participant's history finds its inclusion proof.
    ``ticket_if_allowed`` is the id of the ticket the caller issues when something is allowed.
    ``vault_settings`` given: the vault values of the allowed categories are read with the
    record (one statement on PostgreSQL) and returned as the third element.
    """
    decision = decide(
        session,
        operator_id=operator_id,
        subject_id=subject_id,
        purpose=purpose,
        categories=categories,
        now=now,
    )
    loaded = load(decision) if load is not None else None
    basis = None
    if decision.allowed:
        purpose_row = catalogue.purpose(session, purpose)
        basis = purpose_row.legal_basis if purpose_row else None
        ticket_id = ticket_id or ticket_if_allowed
    transfer_id = uuid.uuid4()
    consent_ids = [str(c) for c in decision.consent_ids]
    allowed, refused = list(decision.allowed), dict(decision.refused)
    event = record_deferred(
        session,
        "gate.decision",
        actor=actor,
        subject=f"person:{subject_id}",
        body={
            "transfer_id": str(transfer_id),
            "channel": channel,
            "operator_id": str(operator_id),
            "purpose": purpose,
            "decision": decision.outcome,
            "allowed": allowed,
            "refused": refused,
            "consent_ids": consent_ids,
        },
    )
    transfer = Transfer(
        id=transfer_id,
        at=now,
        channel=channel,
        actor=actor,
        operator_id=operator_id,
        supplier_id=supplier_id,
        subject_id=subject_id,
        purpose_key=purpose,
        requested=decision.requested,
        allowed=allowed,
        refused=refused,
        consent_ids=consent_ids,
        decision=decision.outcome,
        legal_basis=basis,
        ticket_id=ticket_id,
        audit_event_id=event.id,
    )
    read = allowed if vault_settings is not None else None
    rows = repo.insert_transfer(session, transfer, read_vault=read)
    if vault_settings is not None:
        loaded = vault.values(vault_settings, rows)
    return decision, transfer, loaded


def pull(
    session: Session,
    settings: Settings,
    operator: Organization,
    *,
    subject_id: uuid.UUID,
    purpose: str,
    categories: list[str],
    actor: str,
    now: datetime,
) -> Outcome:
    """An operator reads vault data: only the categories the gate allows are returned."""
    _validate(session, purpose, categories)
    decision, transfer, data = gated_transfer(
        session,
        operator_id=operator.id,
        subject_id=subject_id,
        purpose=purpose,
        categories=categories,
        channel="pull",
        actor=actor,
        now=now,
        vault_settings=settings,
    )
    return Outcome(decision, transfer, data=data)


def issue_ticket(
    session: Session,
    settings: Settings,
    supplier: Organization,
    *,
    operator_id: uuid.UUID,
    subject_id: uuid.UUID,
    purpose: str,
    categories: list[str],
    actor: str,
    now: datetime,
) -> Outcome:
    """A supplier asks the gate before sending data itself; allowed → a signed ticket."""
    _validate(session, purpose, categories)
    ticket_id = uuid.uuid4()
    decision, transfer, _ = gated_transfer(
        session,
        operator_id=operator_id,
        subject_id=subject_id,
        purpose=purpose,
        categories=categories,
        channel="ticket",
        actor=actor,
        now=now,
        supplier_id=supplier.id,
        ticket_if_allowed=ticket_id,
    )
    if not decision.allowed:
        return Outcome(decision, transfer)
    ticket = Ticket(
        id=ticket_id,
        supplier_id=supplier.id,
        operator_id=operator_id,
        subject_id=subject_id,
        purpose_key=purpose,
        categories=list(decision.allowed),
        consent_ids=[str(c) for c in decision.consent_ids],
        issued_at=now,
        expires_at=now + TICKET_TTL,
    )
    repo.add(session, ticket)
    payload = receipts.ticket_payload(
        settings,
        ticket_id=ticket.id,
        supplier_id=supplier.id,
        operator_id=operator_id,
        subject_id=subject_id,
        purpose=purpose,
        categories=ticket.categories,
        consent_ids=decision.consent_ids,
        issued_at=now,
        expires_at=ticket.expires_at,
    )
    token = receipts.sign(session, settings, payload, receipts.TICKET_TYP)
    return Outcome(decision, transfer, ticket=token)


def redeem(
    session: Session,
    settings: Settings,
    operator: Organization,
    token: str,
    *,
    actor: str,
    now: datetime,
) -> Outcome:
    """The operator presents a ticket; the gate runs again (a withdrawal since issuing wins)."""
    payload = receipts.verify(session, settings, token, receipts.TICKET_TYP)
    try:
        ticket_id = uuid.UUID(str(payload.get("jti")))
    except ValueError as exc:
        raise Problem("malformed ticket", status=400, type="invalid-ticket") from exc
    ticket = repo.ticket_for_update(session, ticket_id)
    if ticket is None:
        raise Problem("unknown ticket", status=400, type="invalid-ticket")
    if ticket.operator_id != operator.id:
        raise Forbidden("the ticket names another operator", type="ticket-audience")
    if ticket.redeemed_at is not None:
        raise Conflict("the ticket was already redeemed", type="ticket-used")
    if ticket.expires_at <= now:
        raise Problem("the ticket has expired", status=400, type="ticket-expired")
    ticket.redeemed_at = now
    decision, transfer, _ = gated_transfer(
        session,
        operator_id=operator.id,
        subject_id=ticket.subject_id,
        purpose=ticket.purpose_key,
        categories=list(ticket.categories),
        channel="redeem",
        actor=actor,
        now=now,
        supplier_id=ticket.supplier_id,
        ticket_id=ticket.id,
    )
    return Outcome(decision, transfer)


def history_proofs(
    session: Session, settings: Settings, transfers: list[Transfer]
) -> dict[uuid.UUID, dict[str, Any]]:
    """Transfer id → the inclusion proof of its ``gate.decision`` event against one signed
    checkpoint (``{"event_id", "pending": True}`` while not yet sequenced). Records made before
    transfers kept their event id have none."""
    by_event = {t.audit_event_id: t.id for t in transfers if t.audit_event_id is not None}
    proofs = proofs_for_events(session, list(by_event), settings)
    return {by_event[e]: p for e, p in proofs.items()}
