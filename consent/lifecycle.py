"""The consent state machine: request, sign, refuse, withdraw, suspend, revoke, expire.

requested → partially_given (one of two signers) → given; requested → refused; given →
withdrawn / suspended / revoked / expired (term lapsed); an unanswered request expires too
(silence is never consent). Every change is one ledger event (``consent.ledger.append``) in the
caller's transaction. Changes that end a given consent take the subject's consent lock exclusive
(see ``consent.gate``), start the operator's destruction clock (``consent.destruction``) and run
the withdrawal hooks other packages registered (biometrics destroys its templates).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from audit.service import record as audit
from consent import catalogue, deadlines, ledger, representation
from consent import repository as repo
from consent.catalogue import require_categories
from consent.destruction import start_destruction
from consent.models import TERMINAL_STATES, Consent, Template
from consent.parties import Party, organization_of
from consent.signatures import WRITTEN_FORM_MAX_AUTH_AGE, Signature, check_signer, required_roles
from idp import guardianship, identity
from propusk.errors import Conflict, Forbidden, NotFound, Problem, ValidationProblem

# Withdrawal hooks: (category prefix, callback(session, consent_id, subject_id, categories)).
WithdrawalHook = Callable[[Session, uuid.UUID, uuid.UUID, list[str]], None]
_withdrawal_hooks: list[tuple[str, WithdrawalHook]] = []


def create_request(
    session: Session,
    operator: Party,
    *,
    template_id: uuid.UUID,
    subject_id: uuid.UUID,
    categories: list[str] | None,
    purpose: str | None,
    supplier_id: uuid.UUID | None,
    actor: str,
    now: datetime,
) -> Consent:
    """An operator asks a participant for consent (state ``requested``)."""
    template = _live_template(session, operator, template_id, now)
    if purpose is not None and purpose != template.purpose_key:
        raise ValidationProblem("the purpose differs from the template's", type="wrong-purpose")
    wanted = _requested_categories(session, template, categories)
    if supplier_id is not None:
        organization_of(session, supplier_id, "supplier")
    person = identity.get_person(session, subject_id)
    if person is None:
        raise NotFound("no such participant", type="unknown-subject")
    consent = Consent(
        subject_id=subject_id,
        operator_id=operator.id,
        supplier_id=supplier_id,
        template_id=template.id,
        purpose_key=template.purpose_key,
        categories=wanted,
        actions=list(template.actions),
        form=template.form,
        state="requested",
        age_rule=guardianship.age_group(person, on=deadlines.receipt_date(now)),
        signatures=[],
        requested_at=now,
        request_expires_at=now + timedelta(days=template.request_ttl_days),
        last_seq=0,
        last_hash="",
        updated_at=now,
    )
    repo.add(session, consent)
    ledger.append(
        session,
        consent,
        type="requested",
        to_state="requested",
        actor=actor,
        role="operator",
        at=now,
        payload={"template_id": str(template.id), "text_hash": template.text_hash},
    )
    audit(
        session,
        "consent.requested",
        actor=actor,
        subject=f"person:{subject_id}",
        body={"consent_id": str(consent.id), "categories": wanted},
    )
    return consent


def _live_template(
    session: Session, operator: Party, template_id: uuid.UUID, now: datetime
) -> Template:
    """The operator's template, still valid ``now`` (404 / 422 otherwise)."""
    template = repo.get_template(session, template_id)
    if template is None or template.operator_id != operator.id:
        raise NotFound("no such template of this operator", type="unknown-template")
    if template.valid_until is not None and template.valid_until <= now:
        raise Problem("the template has expired", status=422, type="template-expired")
    return template


def _requested_categories(
    session: Session, template: Template, categories: list[str] | None
) -> list[str]:
    """The categories asked for (default: the template's): catalogued, none beyond the
    template."""
    wanted = list(dict.fromkeys(categories or template.categories))
    require_categories(session, wanted)
    extra = [c for c in wanted if c not in template.categories]
    if extra:
        raise ValidationProblem(
            "categories beyond the template: " + ", ".join(extra),
            type="categories-superset",
            categories=extra,
        )
    return wanted


def _pending_for_answer(session: Session, consent_id: uuid.UUID, now: datetime) -> Consent:
    """The request, locked, if it still awaits an answer (409 otherwise)."""
    consent = repo.consent_for_update(session, consent_id)
    if consent is None:
        raise NotFound("no such consent")
    if consent.state not in repo.PENDING_STATES:
        raise Conflict(f"the consent is {consent.state}", type="invalid-state", state=consent.state)
    if consent.request_expires_at <= now:
        raise Conflict("the request has expired unanswered", type="request-expired")
    return consent


def approve(
    session: Session,
    consent_id: uuid.UUID,
    person_id: uuid.UUID,
    *,
    now: datetime,
    signature: Signature,
    max_auth_age: int = WRITTEN_FORM_MAX_AUTH_AGE,
) -> Consent:
    """One signature; ``given`` once every required signer has signed (14–17: both).

    ``signature`` says how the signer authenticated and which document they signed; the
    ledger event and the signature entry carry it (never a method the signer did not use)."""
    consent = _pending_for_answer(session, consent_id, now)
    role, age = representation.acting_role(session, person_id, consent.subject_id, now, "sign")
    check_signer(consent, signature.auth, now, max_auth_age)
    if consent.form == "written" and not (signature.document_sha256 and signature.pdf_sha256):
        raise Conflict("a written-form consent is signed as a document", type="document-required")
    subject = identity.get_person(session, consent.subject_id)
    needed = required_roles(age)
    consent.signatures = _with_signature(consent, needed, role, age, person_id, signature, now)
    consent.age_rule = age
    if not needed <= {s["role"] for s in consent.signatures}:
        ledger.append(
            session,
            consent,
            type="signed",
            to_state="partially_given",
            actor=f"person:{person_id}",
            role=role,
            at=now,
            payload=signature.entry(),
        )
        return consent
    _give(session, consent, subject, person_id, role, signature, now)
    return consent


def _with_signature(
    consent: Consent,
    needed: set[str],
    role: str,
    age: str,
    person_id: uuid.UUID,
    signature: Signature,
    now: datetime,
) -> list[dict[str, Any]]:
    """The consent's signature entries with this signer's added (403 for a signer the age
    group does not call for, 409 for a second signature in the same role)."""
    if role not in needed:
        detail = (
            "a legal representative must sign for a child under 14"
            if role == "subject"
            else "an adult participant signs for themselves"
        )
        raise Forbidden(detail, type="signer-not-allowed", age_group=age)
    signed = {s["role"] for s in consent.signatures}
    if role in signed and not needed <= signed:
        raise Conflict(f"already signed as {role}", type="already-signed")
    signatures = list(consent.signatures)
    if role not in signed:
        entry = {"person_id": str(person_id), "role": role, "at": now.isoformat()}
        signatures.append({**entry, **signature.entry()})
    # else: a 14–17 subject signed, came of age before the representative did, and confirms
    # again: as an adult their own signature completes the consent.
    return signatures


def _give(
    session: Session,
    consent: Consent,
    subject,
    person_id: uuid.UUID,
    role: str,
    signature: Signature,
    now: datetime,
) -> None:
    """Every required signer has signed: the consent is given for the template's term."""
    template = repo.get_template(session, consent.template_id)
    consent.given_at = consent.valid_from = now
    consent.valid_until = now + timedelta(days=template.term_days)
    consent.representative_until = _representative_until(subject, consent.signatures)
    payload = _grant_payload(session, consent, signature, now)
    _person_acts(session, consent, person_id, role, "given", now, payload=payload)
    _audit_act(session, "consent.granted", person_id, consent)


def _person_acts(
    session: Session,
    consent: Consent,
    person_id: uuid.UUID,
    role: str,
    state: str,
    now: datetime,
    *,
    reason: str | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """The person's act takes the consent to ``state`` (a ledger event of that type)."""
    ledger.append(
        session,
        consent,
        type=state,
        to_state=state,
        actor=f"person:{person_id}",
        role=role,
        at=now,
        reason=reason,
        payload=payload,
    )


def _audit_act(session: Session, event_type: str, person_id: uuid.UUID, consent: Consent) -> None:
    """The audit event of a person's act on the subject's consent."""
    audit(
        session,
        event_type,
        actor=f"person:{person_id}",
        subject=f"person:{consent.subject_id}",
        body={"consent_id": str(consent.id)},
    )


def _grant_payload(session: Session, consent: Consent, signature: Signature, now: datetime) -> dict:
    payload = {**signature.entry(), "valid_until": consent.valid_until.isoformat()}
    purpose = catalogue.purpose(session, consent.purpose_key)
    if purpose is not None and purpose.dissemination:
        # art. 10.1 part 9: the operator publishes the subject's conditions within 3 WD
        payload["conditions_publish_due"] = deadlines.dissemination_due(now).isoformat()
    return payload


def _representative_until(subject, signatures: list[dict[str, Any]]) -> date | None:
    """A consent only a representative signed lapses at the subject's 18th birthday."""
    if any(s["role"] == "subject" for s in signatures) or subject.birth_date is None:
        return None
    b = subject.birth_date
    try:
        return b.replace(year=b.year + 18)
    except ValueError:  # 29 February
        return date(b.year + 18, 3, 1)


def refuse(
    session: Session,
    consent_id: uuid.UUID,
    person_id: uuid.UUID,
    *,
    now: datetime,
    reason: str | None = None,
) -> Consent:
    """Refuse a pending request: it ends unanswered by a signature (nothing to destroy)."""
    consent = _pending_for_answer(session, consent_id, now)
    role, _ = representation.acting_role(session, person_id, consent.subject_id, now, "refuse")
    _person_acts(session, consent, person_id, role, "refused", now, reason=reason)
    consent.ended_at = now
    _audit_act(session, "consent.refused", person_id, consent)
    return consent


def on_withdrawal(category_prefix: str, callback: WithdrawalHook) -> Callable[[], None]:
    """Register a hook run in the transaction that ends a consent covering ``category_prefix``
    (withdrawal, revocation or lapse of its term); returns an unregister function."""
    entry = (category_prefix, callback)
    _withdrawal_hooks.append(entry)
    return lambda: _withdrawal_hooks.remove(entry) if entry in _withdrawal_hooks else None


def _run_withdrawal_hooks(session: Session, consent: Consent) -> None:
    """Run the hooks whose prefix one of the ended consent's categories has."""
    for prefix, callback in list(_withdrawal_hooks):
        hit = [c for c in consent.categories if c.startswith(prefix)]
        if hit:
            callback(session, consent.id, consent.subject_id, hit)


def _locked(session: Session, consent_id: uuid.UUID) -> Consent:
    """The consent row ``FOR UPDATE``, then the subject's consent lock exclusive: a change that
    can end a given consent waits for in-flight gate decisions (see ``consent.gate``)."""
    consent = repo.consent_for_update(session, consent_id)
    if consent is None:
        raise NotFound("no such consent")
    repo.lock_subject(session, consent.subject_id, shared=False)
    return consent


def withdraw(
    session: Session,
    consent_id: uuid.UUID,
    person_id: uuid.UUID,
    *,
    now: datetime,
    reason: str | None = None,
) -> Consent:
    """Withdraw (art. 9 part 2): row ``FOR UPDATE`` plus the subject's consent lock exclusive,
    so it waits for in-flight gate decisions and every decision after this commits sees
    ``withdrawn`` (see ``consent.gate``). Starts the 30-day clock."""
    consent = _locked(session, consent_id)
    role, _ = representation.acting_role(session, person_id, consent.subject_id, now, "withdraw")
    if consent.state not in ("given", "partially_given", "suspended"):
        raise Conflict(f"the consent is {consent.state}", type="invalid-state", state=consent.state)
    was_given = consent.given_at is not None
    _person_acts(session, consent, person_id, role, "withdrawn", now, reason=reason)
    consent.ended_at = now
    if was_given:
        start_destruction(session, consent, "withdrawn", now)
    _run_withdrawal_hooks(session, consent)
    _audit_act(session, "consent.withdrawn", person_id, consent)
    return consent


def suspend(
    session: Session,
    consent_id: uuid.UUID,
    person_id: uuid.UUID,
    *,
    now: datetime,
    reason: str | None = None,
) -> Consent:
    """Demand to stop processing (art. 21 part 5.1): transfers are refused at once."""
    consent = _locked(session, consent_id)
    role, _ = representation.acting_role(session, person_id, consent.subject_id, now, "suspend")
    if consent.state != "given":
        raise Conflict(f"the consent is {consent.state}", type="invalid-state", state=consent.state)
    stop_due = deadlines.add_working_days(deadlines.receipt_date(now), deadlines.STOP_PROCESSING_WD)
    payload = {"stop_due": stop_due.isoformat()}
    _person_acts(
        session, consent, person_id, role, "suspended", now, reason=reason, payload=payload
    )
    return consent


def revoke(
    session: Session, consent_id: uuid.UUID, *, actor: str, role: str, now: datetime, reason: str
) -> Consent:
    """The operator or platform ends a consent (contract end, authority ended …)."""
    consent = _locked(session, consent_id)
    if consent.state in TERMINAL_STATES:
        raise Conflict(f"the consent is {consent.state}", type="invalid-state", state=consent.state)
    was_given = consent.given_at is not None
    ledger.append(
        session,
        consent,
        type="revoked",
        to_state="revoked",
        actor=actor,
        role=role,
        at=now,
        reason=reason,
    )
    consent.ended_at = now
    if was_given:
        start_destruction(session, consent, "revoked", now)
    _run_withdrawal_hooks(session, consent)
    return consent


def _expire(session: Session, consent: Consent, now: datetime, reason: str) -> None:
    """The system ends an unanswered request or a lapsed consent."""
    ledger.append(
        session,
        consent,
        type="expired",
        to_state="expired",
        actor="system",
        role="system",
        at=now,
        reason=reason,
    )
    consent.ended_at = now


def expire_due(session: Session, now: datetime, subject_id: uuid.UUID | None = None) -> int:
    """Silence is never consent: unanswered requests expire; lapsed consents expire too
    (check 13: their data must then be destroyed within 30 days)."""
    count = 0
    for consent in repo.unanswered_due(session, now, subject_id):
        _expire(session, consent, now, "request unanswered (silence is not consent)")
        count += 1
    for consent in repo.lapsed_given(session, now, subject_id):
        _expire(session, consent, now, "consent term ended")
        start_destruction(session, consent, "expired", now)
        _run_withdrawal_hooks(session, consent)  # a lapsed consent ends processing too
        count += 1
    return count


def list_consents(
    session: Session, subject_id: uuid.UUID, now: datetime, pending: bool = False
) -> list[Consent]:
    """The subject's consents (``pending``: only the requests awaiting an answer), after
    expiring what is due."""
    expire_due(session, now, subject_id)  # lazily, so nobody sees a stale request
    states = repo.PENDING_STATES if pending else None
    return repo.consents_of_subject(session, subject_id, states)
