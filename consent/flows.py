"""Gated transfers: policy (route) → gate → transfer record → vault/ticket → audit, one transaction.

Every decision, allowed or refused, is written as a ``consent_transfer`` row and a
``gate.decision`` audit event in the transaction that made it, so the caller must let a refused
decision commit too (routes return the 403 body instead of raising).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from audit.service import NewEvent, proofs_for_events, record_deferred_many
from consent import catalogue, receipts, vault
from consent import repository as repo
from consent.catalogue import require_categories, require_purpose
from consent.gate import Ask, Decision, decide_many
from consent.models import Ticket, Transfer
from consent.parties import Party
from propusk.errors import Conflict, Forbidden, Problem, ValidationProblem
from propusk.settings import Settings

TICKET_TTL = timedelta(minutes=5)
MAX_CATEGORIES = 50


@dataclass(frozen=True, slots=True)
class TransferRecord:
    """A transfer record as written (the ``consent_transfer`` columns): a plain object, as
    building ORM instances cost more per transfer than the rest of the batch."""

    id: uuid.UUID
    at: datetime
    channel: str
    actor: str
    operator_id: uuid.UUID
    supplier_id: uuid.UUID | None
    subject_id: uuid.UUID
    purpose_key: str
    requested: list[str]
    allowed: list[str]
    refused: dict[str, str]
    consent_ids: list[str]
    decision: str
    legal_basis: str | None
    ticket_id: uuid.UUID | None
    audit_event_id: uuid.UUID
    suppliers: dict[str, str]


@dataclass
class Outcome:
    decision: Decision
    transfer: TransferRecord
    data: dict[str, Any] | None = None
    ticket: str | None = None


def _validate(session: Session, purpose: str, categories: list[str]) -> None:
    """Bad input is a 4xx before any decision: unknown purpose or category, empty list."""
    if not categories or len(categories) > MAX_CATEGORIES:
        raise ValidationProblem(f"give 1..{MAX_CATEGORIES} categories", type="bad-categories")
    require_purpose(session, purpose)
    require_categories(session, categories)


@dataclass(frozen=True)
class TransferAsk:
    """One transfer to decide and record: the gate's question plus who asks, by which channel."""

    ask: Ask
    channel: str
    actor: str
    supplier_id: uuid.UUID | None = None
    ticket_id: uuid.UUID | None = None
    ticket_if_allowed: uuid.UUID | None = None


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
    vault_settings: Settings | None = None,
) -> tuple[Decision, TransferRecord, Any]:
    """Decide and record one transfer (the decision and its record share the transaction).

    ``ticket_if_allowed`` is the id of the ticket the caller issues when something is allowed.
    ``supplier_id`` is the supplier that sends the data itself (tickets): a consent naming
    another supplier does not cover it. ``vault_settings`` given: the vault values of the
    allowed categories are read with the record and returned as the third element."""
    ask = TransferAsk(
        Ask(operator_id, subject_id, purpose, categories, supplier_id),
        channel,
        actor,
        supplier_id,
        ticket_id,
        ticket_if_allowed,
    )
    return gated_transfers(session, [ask], now, vault_settings)[0]


def gated_transfers(
    session: Session,
    asks: list[TransferAsk],
    now: datetime,
    vault_settings: Settings | None = None,
) -> list[tuple[Decision, TransferRecord, Any]]:
    """Decide and record a batch of transfers in the caller's transaction, in order.

    A constant number of statements per batch: one gate read (every subject's shared lock and
    consent rows), one executemany of ``gate.decision`` events into the audit outbox
    (``record_deferred_many``: no sequencer lock, so concurrent gated reads do not queue behind
    each other; each event id is stored on its transfer record, which is how the participant's
    history finds its inclusion proof), and one statement writing the transfer records and
    reading the vault values of the allowed categories (when ``vault_settings`` is given).
    A category whose consent names a supplier releases only that supplier's value
    (``vault.released``); the answer, the record and the event name the binding."""
    decisions = decide_many(session, [a.ask for a in asks], now)
    transfer_ids = [uuid.uuid4() for _ in asks]
    events = record_deferred_many(
        session,
        [
            NewEvent(
                "gate.decision",
                a.actor,
                f"person:{d.subject_id}",
                {
                    "transfer_id": str(tid),
                    "channel": a.channel,
                    "operator_id": str(d.operator_id),
                    "purpose": d.purpose,
                    "decision": d.outcome,
                    "allowed": list(d.allowed),
                    "refused": dict(d.refused),
                    "consent_ids": d.consent_id_strings(),
                    "suppliers": d.supplier_strings(),
                },
            )
            for a, d, tid in zip(asks, decisions, transfer_ids, strict=True)
        ],
    )
    transfers = [
        _transfer_record(a, d, tid, event.id, session, now)
        for a, d, tid, event in zip(asks, decisions, transfer_ids, events, strict=True)
    ]
    reads = None if vault_settings is None else [list(d.allowed) for d in decisions]
    rows = repo.insert_transfers(session, transfers, reads)
    loaded: list[Any] = [None] * len(asks)
    if vault_settings is not None:
        loaded = [
            vault.values(vault_settings, vault.released(r, d.suppliers))
            for r, d in zip(rows, decisions, strict=True)
        ]
    return list(zip(decisions, transfers, loaded, strict=True))


def _transfer_record(
    a: TransferAsk,
    d: Decision,
    transfer_id: uuid.UUID,
    event_id: uuid.UUID,
    session: Session,
    now: datetime,
) -> TransferRecord:
    basis, ticket_id = None, a.ticket_id
    if d.allowed:
        purpose_row = catalogue.purpose(session, d.purpose)
        basis = purpose_row.legal_basis if purpose_row else None
        ticket_id = ticket_id or a.ticket_if_allowed
    return TransferRecord(
        id=transfer_id,
        at=now,
        channel=a.channel,
        actor=a.actor,
        operator_id=d.operator_id,
        supplier_id=a.supplier_id,
        subject_id=d.subject_id,
        purpose_key=d.purpose,
        requested=d.requested,
        allowed=list(d.allowed),
        refused=dict(d.refused),
        consent_ids=d.consent_id_strings(),
        decision=d.outcome,
        legal_basis=basis,
        ticket_id=ticket_id,
        audit_event_id=event_id,
        suppliers=d.supplier_strings(),
    )


@dataclass(frozen=True)
class PullAsk:
    """An operator's read of a subject's vault data (``GET …/subjects/{id}/data``)."""

    operator_id: uuid.UUID
    subject_id: uuid.UUID
    purpose: str
    categories: list[str]
    actor: str


def pull(
    session: Session,
    settings: Settings,
    operator: Party,
    *,
    subject_id: uuid.UUID,
    purpose: str,
    categories: list[str],
    actor: str,
    now: datetime,
) -> Outcome:
    """An operator reads vault data: only the categories the gate allows are returned."""
    ask = PullAsk(operator.id, subject_id, purpose, categories, actor)
    result = pull_many(session, settings, [ask], now)[0]
    if isinstance(result, Problem):
        raise result
    return result


def pull_many(
    session: Session, settings: Settings, asks: list[PullAsk], now: datetime
) -> list[Outcome | Problem]:
    """``pull`` for a batch, in order, in the caller's transaction: bad input is that ask's
    ``Problem`` (nothing recorded for it), the others are decided and recorded together."""
    results: list[Outcome | Problem | None] = []
    valid: list[TransferAsk] = []
    for a in asks:
        try:
            _validate(session, a.purpose, a.categories)
        except Problem as problem:
            results.append(problem)
            continue
        results.append(None)
        valid.append(
            TransferAsk(Ask(a.operator_id, a.subject_id, a.purpose, a.categories), "pull", a.actor)
        )
    done = iter(gated_transfers(session, valid, now, vault_settings=settings) if valid else ())
    out: list[Outcome | Problem] = []
    for r in results:
        if r is None:
            decision, transfer, data = next(done)
            r = Outcome(decision, transfer, data=data)
        out.append(r)
    return out


def issue_ticket(
    session: Session,
    settings: Settings,
    supplier: Party,
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
    operator: Party,
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
