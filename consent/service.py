"""Consent ledger business rules: parties, catalogues, templates, the consent state machine.

Services take a session and never commit. Every state change goes through ``_transition``,
which appends a hash-chained ``consent_event`` and updates the current row in the same
transaction (the row is never changed without its event).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from audit.service import record as audit
from consent import catalogue, deadlines, obligations, representation
from consent import repository as repo
from consent.catalogue import CategoryInfo, PurposeInfo
from consent.models import (
    TERMINAL_STATES,
    AccessRequest,
    Category,
    Consent,
    ConsentEvent,
    DestructionTask,
    Organization,
    Purpose,
    Template,
)
from propusk.db import utcnow
from propusk.errors import Conflict, Forbidden, NotFound, Problem, ValidationProblem
from propusk.security import AuthContext
from propusk.validators import inn_valid, ogrn_valid

CATALOGUE_FILE = Path(__file__).with_name("catalogue.json")
ACTIONS = (
    "сбор",
    "запись",
    "систематизация",
    "накопление",
    "хранение",
    "уточнение",
    "извлечение",
    "использование",
    "передача",
    "обезличивание",
    "блокирование",
    "удаление",
    "уничтожение",
)
PROCESSING_METHODS = ("automated", "non_automated", "mixed")
GENESIS = "0" * 64
MAX_TERM_DAYS = 366 * 5
CATEGORY_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


# --- parties ------------------------------------------------------------------------------


def register_organization(session: Session, data: dict[str, Any], *, actor: str) -> Organization:
    """Register an operator or supplier; foreign primary storage is refused (art. 18 part 5)."""
    if data["kind"] not in ("operator", "supplier"):
        raise ValidationProblem("kind must be operator or supplier")
    if not inn_valid(data["inn"]):
        raise ValidationProblem("ИНН check digits are wrong", type="invalid-inn")
    if not ogrn_valid(data["ogrn"]):
        raise ValidationProblem("ОГРН check digit is wrong", type="invalid-ogrn")
    if data["storage_country"].upper() != "RU":
        raise Problem(
            "primary storage of Russian citizens' personal data must be in Russia "
            "(152-FZ art. 18 part 5)",
            status=422,
            type="storage-outside-russia",
        )
    if repo.organization_by_ogrn(session, data["ogrn"]) is not None:
        raise Conflict("an organisation with this ОГРН is registered", type="duplicate-ogrn")
    client_id = data.get("client_id")
    if client_id and repo.organization_by_client(session, client_id) is not None:
        raise Conflict("this client is bound to another organisation", type="client-bound")
    esia_org_oid = data.pop("esia_org_oid", None)
    org = Organization(**{**data, "storage_country": "RU"})
    repo.add(session, org)
    _register_in_idp(session, org, esia_org_oid, actor)
    if client_id:
        _bind_client(session, client_id, org, actor)
    audit(
        session,
        "consent.organization.registered",
        actor=actor,
        body={"organization_id": str(org.id), "kind": org.kind},
    )
    return org


def _register_in_idp(
    session: Session, org: Organization, esia_org_oid: str | None, actor: str
) -> None:
    """One registry: the idp organisation shares this id, so operator staff (ESIA employees →
    ``operator_staff`` in ``org:<id>``) and the operator's OAuth clients share one domain."""
    from idp import service as idp

    idp.register_operator_org(
        session,
        esia_org_oid,
        org.ogrn,
        org.name,
        kind=org.kind,
        organization_id=org.id,
        actor=actor,
    )


def _bind_client(session: Session, client_id: str, org: Organization, actor: str) -> None:
    """Tell idp which organisation the OAuth client acts for (when the client exists there)."""
    from idp.oidc import service as oidc

    oidc.bind_client(session, client_id, org.id, org.kind, actor=actor)


def organization_of(session: Session, org_id: uuid.UUID | None, kind: str) -> Organization:
    """The caller's organisation, which must be registered with ``kind``."""
    org = repo.get_organization(session, org_id) if org_id else None
    if org is None or org.kind != kind:
        raise Forbidden(f"the caller is not a registered {kind}", type="not-" + kind)
    return org


# --- catalogues ---------------------------------------------------------------------------


def load_catalogue(session: Session, data: dict[str, Any] | None = None) -> tuple[int, int]:
    """Upsert categories and purposes (default: consent/catalogue.json)."""
    data = data or json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    for item in data.get("categories", []):
        upsert_category(session, item)
    for item in data.get("purposes", []):
        upsert_purpose(session, item)
    catalogue.invalidate()
    return len(data.get("categories", [])), len(data.get("purposes", []))


def upsert_category(session: Session, item: dict[str, Any]) -> Category:
    if not CATEGORY_KEY.fullmatch(item["key"]):
        raise ValidationProblem("a category key is dotted lower-case, e.g. person.fullname")
    row = repo.get_category(session, item["key"]) or Category(key=item["key"])
    row.title = item["title"]
    row.special = bool(item.get("special", False))
    row.biometric = bool(item.get("biometric", False))
    row.encrypt = bool(item.get("encrypt", False) or row.special or row.biometric)
    limit = item.get("max_bytes")
    if limit is not None and (type(limit) is not int or limit < 1):
        raise ValidationProblem("max_bytes is a positive number of bytes", type="bad-max-bytes")
    row.max_bytes = limit
    session.add(row)
    session.flush()
    return row


def upsert_purpose(session: Session, item: dict[str, Any]) -> Purpose:
    if not CATEGORY_KEY.fullmatch(item["key"]):
        raise ValidationProblem("a purpose key is dotted lower-case, e.g. attestation.online")
    row = repo.get_purpose(session, item["key"]) or Purpose(key=item["key"])
    row.title = item["title"]
    row.legal_basis = item["legal_basis"]
    row.dissemination = bool(item.get("dissemination", False))
    session.add(row)
    session.flush()
    return row


def require_categories(session: Session, keys: Iterable[str]) -> dict[str, CategoryInfo]:
    """All keys must be catalogued; an unknown one is a 422 naming it."""
    keys = list(dict.fromkeys(keys))
    found = catalogue.categories(session, keys)
    unknown = [k for k in keys if k not in found]
    if unknown:
        raise ValidationProblem(
            "unknown data categories: " + ", ".join(unknown),
            type="unknown-category",
            categories=unknown,
        )
    return found


def require_purpose(session: Session, key: str) -> PurposeInfo:
    purpose = catalogue.purpose(session, key)
    if purpose is None:
        raise ValidationProblem(f"unknown purpose {key}", type="unknown-purpose")
    return purpose


# --- templates (checks 1, 2, 4, 19) -------------------------------------------------------


def publish_template(
    session: Session, operator: Organization, data: dict[str, Any], *, actor: str
) -> Template:
    """Publish an immutable template version; refuse one that lacks an art. 9 part 4 element."""
    missing = [
        name
        for name in (
            "text",
            "purpose",
            "categories",
            "actions",
            "processing_methods",
            "term_days",
            "withdrawal_method",
        )
        if not data.get(name)
    ]
    if missing:
        raise ValidationProblem(
            "the consent lacks art. 9 part 4 elements: " + ", ".join(missing),
            type="incomplete-consent",
            missing=missing,
        )
    purpose = require_purpose(session, data["purpose"])
    if purpose.dissemination and not (data.get("conditions") or "").strip():
        raise ValidationProblem(
            "a consent to dissemination states the subject's conditions and prohibitions "
            "(152-FZ art. 10.1; RKN Order 18)",
            type="dissemination-conditions-required",
        )
    categories = require_categories(session, data["categories"])
    bad_actions = [a for a in data["actions"] if a not in ACTIONS]
    if bad_actions:
        raise ValidationProblem("unknown actions: " + ", ".join(bad_actions), type="bad-action")
    if any(m not in PROCESSING_METHODS for m in data["processing_methods"]):
        raise ValidationProblem("processing methods are automated, non_automated or mixed")
    if not 0 < int(data["term_days"]) <= MAX_TERM_DAYS:
        raise ValidationProblem("the consent term must be 1..1830 days", type="bad-term")
    form = data.get("form", "any")
    if any(c.special or c.biometric for c in categories.values()) and form != "written":
        raise ValidationProblem(
            "special and biometric data need a written consent (art. 10 part 2, art. 11)",
            type="written-form-required",
        )
    version = repo.latest_template_version(session, operator.id, data["key"]) + 1
    template = Template(
        operator_id=operator.id,
        key=data["key"],
        version=version,
        language=data.get("language", "ru"),
        text=data["text"],
        text_hash=hashlib.sha256(data["text"].encode()).hexdigest(),
        purpose_key=data["purpose"],
        categories=list(categories),
        actions=list(dict.fromkeys(data["actions"])),
        processing_methods=list(data["processing_methods"]),
        processor=data.get("processor"),
        conditions=data.get("conditions"),
        term_days=int(data["term_days"]),
        withdrawal_method=data["withdrawal_method"],
        form=form,
        request_ttl_days=int(data.get("request_ttl_days", 30)),
        valid_until=data.get("valid_until"),
    )
    repo.add(session, template)
    audit(
        session,
        "consent.template.published",
        actor=actor,
        body={"template_id": str(template.id), "version": version},
    )
    return template


# --- the ledger ---------------------------------------------------------------------------


def _event_hash(prev: str, fields: dict[str, Any]) -> str:
    blob = json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(prev.encode() + blob.encode()).hexdigest()


def _transition(
    session: Session,
    consent: Consent,
    *,
    type: str,
    to_state: str,
    actor: str,
    role: str,
    at: datetime,
    reason: str | None = None,
    payload: dict[str, Any] | None = None,
) -> ConsentEvent:
    """Append the event and update the current row together (one transaction)."""
    seq = consent.last_seq + 1
    fields = {
        "consent_id": str(consent.id),
        "seq": seq,
        "type": type,
        "from": consent.state,
        "to": to_state,
        "actor": actor,
        "role": role,
        "at": at.isoformat(),
        "reason": reason,
        "payload": payload or {},
    }
    digest = _event_hash(consent.last_hash or GENESIS, fields)
    event = ConsentEvent(
        pos=repo.next_feed_pos(session, consent.operator_id),
        consent_id=consent.id,
        operator_id=consent.operator_id,
        subject_id=consent.subject_id,
        seq=seq,
        type=type,
        from_state=consent.state if seq > 1 else None,
        to_state=to_state,
        actor=actor,
        actor_role=role,
        at=at,
        reason=reason,
        payload=payload or {},
        prev_hash=consent.last_hash or GENESIS,
        hash=digest,
    )
    consent.state = to_state
    consent.last_seq = seq
    consent.last_hash = digest
    consent.updated_at = at
    session.add(event)
    session.flush()
    return event


def verify_chain(session: Session, consent_id: uuid.UUID) -> bool:
    """Recompute the consent's event chain (check 18: proof of consent)."""
    prev = GENESIS
    state = None
    for ev in repo.events_of(session, consent_id):
        fields = {
            "consent_id": str(ev.consent_id),
            "seq": ev.seq,
            "type": ev.type,
            "from": state if ev.seq > 1 else "requested",
            "to": ev.to_state,
            "actor": ev.actor,
            "role": ev.actor_role,
            "at": ev.at.isoformat(),
            "reason": ev.reason,
            "payload": ev.payload,
        }
        if ev.prev_hash != prev or _event_hash(prev, fields) != ev.hash:
            return False
        prev, state = ev.hash, ev.to_state
    return True


def create_request(
    session: Session,
    operator: Organization,
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
    from idp import service as idp

    template = repo.get_template(session, template_id)
    if template is None or template.operator_id != operator.id:
        raise NotFound("no such template of this operator", type="unknown-template")
    if template.valid_until is not None and template.valid_until <= now:
        raise Problem("the template has expired", status=422, type="template-expired")
    if purpose is not None and purpose != template.purpose_key:
        raise ValidationProblem("the purpose differs from the template's", type="wrong-purpose")
    wanted = list(dict.fromkeys(categories or template.categories))
    require_categories(session, wanted)
    extra = [c for c in wanted if c not in template.categories]
    if extra:
        raise ValidationProblem(
            "categories beyond the template: " + ", ".join(extra),
            type="categories-superset",
            categories=extra,
        )
    if supplier_id is not None:
        organization_of(session, supplier_id, "supplier")
    person = idp.get_person(session, subject_id)
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
        age_rule=idp.age_group(person, on=deadlines.receipt_date(now)),
        signatures=[],
        requested_at=now,
        request_expires_at=now + timedelta(days=template.request_ttl_days),
        last_seq=0,
        last_hash="",
        updated_at=now,
    )
    repo.add(session, consent)
    _transition(
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


@dataclass(frozen=True)
class Signature:
    """What a signature records besides who and when: how the signer authenticated (the login
    session of Propusk's own page they signed in) and the document they signed."""

    auth: AuthContext
    document_sha256: str | None = None
    pdf_sha256: str | None = None
    document_id: uuid.UUID | None = None

    def entry(self) -> dict[str, Any]:
        return {
            "method": self.auth.method,
            "auth_time": self.auth.auth_time.isoformat(),
            "acr": self.auth.acr,
            "confirmed_account": self.auth.confirmed,
            "session": self.auth.session_ref,
            "document_sha256": self.document_sha256,
            "pdf_sha256": self.pdf_sha256,
            "document_id": str(self.document_id) if self.document_id else None,
        }


# A written-form signature (special categories, biometrics, dissemination) needs a login this
# recent (seconds); older logins go through ESIA again first (step-up). Settings override it.
WRITTEN_FORM_MAX_AUTH_AGE = 900


def check_signer(consent: Consent, auth: AuthContext, now: datetime, max_age: int) -> None:
    """Written form (art. 9 part 4, art. 10, 10.1, 11): the signer's ESIA account is confirmed
    and they authenticated at most ``max_age`` seconds ago (else: log in again, step-up)."""
    if consent.form != "written":
        return
    if not auth.confirmed:
        raise Forbidden(
            "a written-form consent needs a confirmed ESIA account",
            type="confirmed-account-required",
        )
    if now - auth.auth_time > timedelta(seconds=max_age):
        raise Forbidden(
            "log in through ESIA again to sign a written-form consent",
            type="step-up-required",
            max_age=max_age,
        )


def signed_as_written(entry: dict[str, Any]) -> bool:
    """A signature entry made the written-form way: after an ESIA login of a confirmed
    account, as a document (its hashes recorded). Entries of older ledgers (``esia_login``
    without a document) do not count."""
    return (
        str(entry.get("method", "")).startswith("esia:")
        and entry.get("confirmed_account") is True
        and bool(entry.get("document_sha256"))
        and bool(entry.get("pdf_sha256"))
    )


def required_roles(age: str) -> set[str]:
    """Who must sign (check 3): <14 a representative; 14–17 both; adults themselves."""
    return {"under14": {"guardian"}, "14to17": {"subject", "guardian"}}.get(age, {"subject"})


def _pending_for_answer(session: Session, consent_id: uuid.UUID, now: datetime) -> Consent:
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
    from idp import service as idp

    consent = _pending_for_answer(session, consent_id, now)
    role, age = representation.acting_role(session, person_id, consent.subject_id, now, "sign")
    check_signer(consent, signature.auth, now, max_auth_age)
    if consent.form == "written" and not (signature.document_sha256 and signature.pdf_sha256):
        raise Conflict("a written-form consent is signed as a document", type="document-required")
    subject = idp.get_person(session, consent.subject_id)
    needed = required_roles(age)
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
    consent.signatures = signatures
    consent.age_rule = age
    done = needed <= {s["role"] for s in signatures}
    if not done:
        _transition(
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
    template = repo.get_template(session, consent.template_id)
    consent.given_at = consent.valid_from = now
    consent.valid_until = now + timedelta(days=template.term_days)
    consent.representative_until = _representative_until(subject, signatures)
    _transition(
        session,
        consent,
        type="given",
        to_state="given",
        actor=f"person:{person_id}",
        role=role,
        at=now,
        payload=_grant_payload(session, consent, signature, now),
    )
    audit(
        session,
        "consent.granted",
        actor=f"person:{person_id}",
        subject=f"person:{consent.subject_id}",
        body={"consent_id": str(consent.id)},
    )
    return consent


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
    consent = _pending_for_answer(session, consent_id, now)
    role, _ = representation.acting_role(session, person_id, consent.subject_id, now, "refuse")
    _transition(
        session,
        consent,
        type="refused",
        to_state="refused",
        actor=f"person:{person_id}",
        role=role,
        at=now,
        reason=reason,
    )
    consent.ended_at = now
    audit(
        session,
        "consent.refused",
        actor=f"person:{person_id}",
        subject=f"person:{consent.subject_id}",
        body={"consent_id": str(consent.id)},
    )
    return consent


# Withdrawal hooks: (category prefix, callback(session, consent_id, subject_id, categories)).
WithdrawalHook = Callable[[Session, uuid.UUID, uuid.UUID, list[str]], None]
_withdrawal_hooks: list[tuple[str, WithdrawalHook]] = []


def on_withdrawal(category_prefix: str, callback: WithdrawalHook) -> Callable[[], None]:
    """Register a hook run in the transaction that ends a consent covering ``category_prefix``
    (withdrawal, revocation or lapse of its term); returns an unregister function."""
    entry = (category_prefix, callback)
    _withdrawal_hooks.append(entry)
    return lambda: _withdrawal_hooks.remove(entry) if entry in _withdrawal_hooks else None


def _run_withdrawal_hooks(session: Session, consent: Consent) -> None:
    for prefix, callback in list(_withdrawal_hooks):
        hit = [c for c in consent.categories if c.startswith(prefix)]
        if hit:
            callback(session, consent.id, consent.subject_id, hit)


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
    consent = repo.consent_for_update(session, consent_id)
    if consent is None:
        raise NotFound("no such consent")
    repo.lock_subject(session, consent.subject_id, shared=False)  # see consent.gate
    role, _ = representation.acting_role(session, person_id, consent.subject_id, now, "withdraw")
    if consent.state not in ("given", "partially_given", "suspended"):
        raise Conflict(f"the consent is {consent.state}", type="invalid-state", state=consent.state)
    was_given = consent.given_at is not None
    _transition(
        session,
        consent,
        type="withdrawn",
        to_state="withdrawn",
        actor=f"person:{person_id}",
        role=role,
        at=now,
        reason=reason,
    )
    consent.ended_at = now
    if was_given:
        _start_destruction(session, consent, "withdrawn", now)
    _run_withdrawal_hooks(session, consent)
    audit(
        session,
        "consent.withdrawn",
        actor=f"person:{person_id}",
        subject=f"person:{consent.subject_id}",
        body={"consent_id": str(consent.id)},
    )
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
    consent = repo.consent_for_update(session, consent_id)
    if consent is None:
        raise NotFound("no such consent")
    repo.lock_subject(session, consent.subject_id, shared=False)  # see consent.gate
    role, _ = representation.acting_role(session, person_id, consent.subject_id, now, "suspend")
    if consent.state != "given":
        raise Conflict(f"the consent is {consent.state}", type="invalid-state", state=consent.state)
    _transition(
        session,
        consent,
        type="suspended",
        to_state="suspended",
        actor=f"person:{person_id}",
        role=role,
        at=now,
        reason=reason,
        payload={
            "stop_due": deadlines.add_working_days(
                deadlines.receipt_date(now), deadlines.STOP_PROCESSING_WD
            ).isoformat()
        },
    )
    return consent


def revoke(
    session: Session, consent_id: uuid.UUID, *, actor: str, role: str, now: datetime, reason: str
) -> Consent:
    """The operator or platform ends a consent (contract end, authority ended …)."""
    consent = repo.consent_for_update(session, consent_id)
    if consent is None:
        raise NotFound("no such consent")
    repo.lock_subject(session, consent.subject_id, shared=False)  # see consent.gate
    if consent.state in TERMINAL_STATES:
        raise Conflict(f"the consent is {consent.state}", type="invalid-state", state=consent.state)
    was_given = consent.given_at is not None
    _transition(
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
        _start_destruction(session, consent, "revoked", now)
    _run_withdrawal_hooks(session, consent)
    return consent


def _start_destruction(session: Session, consent: Consent, reason: str, now: datetime) -> None:
    """The operator's clock: destroy within 30 days (art. 21 part 5); a withdrawn consent to
    dissemination is a demand to stop disseminating within 3 working days (art. 10.1)."""
    due = deadlines.destruction_due(now)
    purpose = catalogue.purpose(session, consent.purpose_key)
    if reason == "withdrawn" and purpose is not None and purpose.dissemination:
        reason, due = "dissemination_stop", deadlines.dissemination_due(now)
    task = DestructionTask(
        consent_id=consent.id,
        operator_id=consent.operator_id,
        subject_id=consent.subject_id,
        categories=list(consent.categories),
        reason=reason,
        started_at=now,
        due_date=due,
    )
    repo.add(session, task)


def _expire(session: Session, consent: Consent, now: datetime, reason: str) -> None:
    _transition(
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
        _start_destruction(session, consent, "expired", now)
        _run_withdrawal_hooks(session, consent)  # a lapsed consent ends processing too
        count += 1
    return count


def confirm_destruction(
    session: Session, operator: Organization, task_id: uuid.UUID, *, actor: str, now: datetime
) -> DestructionTask:
    task = repo.get_destruction_task(session, task_id)
    if task is None or task.operator_id != operator.id:
        raise NotFound("no such destruction task")
    if task.confirmed_at is not None:
        raise Conflict("destruction already confirmed", type="already-confirmed")
    task.confirmed_at = now
    task.confirmed_by = actor
    session.flush()
    audit(
        session,
        "consent.destruction.confirmed",
        actor=actor,
        body={"task_id": str(task.id), "consent_id": str(task.consent_id)},
    )
    return task


def overdue(session: Session, today: date) -> list[DestructionTask]:
    return repo.overdue_destruction(session, today)


# --- reads for other packages and participants --------------------------------------------


@dataclass(frozen=True)
class ConsentRef:
    id: uuid.UUID
    form: str
    given_at: datetime
    signers: list[dict[str, Any]]


def has_active_consent(
    session: Session,
    subject_id: uuid.UUID,
    category: str,
    purpose: str | None = None,
    now: datetime | None = None,
) -> ConsentRef | None:
    """A given, in-term, unblocked consent of the subject covering ``category`` (biometrics
    uses this)."""
    from consent.gate import consent_refusal

    now = now or utcnow()
    cat = catalogue.categories(session, [category]).get(category)
    if cat is None:
        return None
    for c in repo.given_consents_of_subject(session, subject_id):
        if category not in c.categories or (purpose and c.purpose_key != purpose):
            continue
        if category in obligations.blocked_categories(session, subject_id, now, c.operator_id):
            continue  # blocked (art. 21 parts 1–3, 6): no processing while the block holds
        if consent_refusal(c, cat, now, transfer=False) is None:
            return ConsentRef(c.id, c.form, c.given_at, list(c.signatures))
    return None


def subjects_for(
    session: Session,
    person_id: uuid.UUID,
    subject_id: uuid.UUID | None,
    act: representation.Act = "read",
    now: datetime | None = None,
) -> uuid.UUID:
    """The subject a person may ``act`` for now: themselves or a minor they represent
    (``consent.representation``).

    Acting for themselves needs their person row: a principal whose person is gone (e.g. a
    token that outlived it) gets a 404 here, before any ``/me`` write references the id."""
    subject_id = subject_id or person_id
    representation.acting_role(session, person_id, subject_id, now or utcnow(), act)
    return subject_id


def _require_subject(session: Session, person_id: uuid.UUID) -> None:
    from idp import service as idp

    if idp.get_person(session, person_id) is None:
        raise NotFound("no such participant", type="unknown-subject")


def consent_for_person(
    session: Session,
    consent_id: uuid.UUID,
    person_id: uuid.UUID,
    act: representation.Act = "read",
) -> Consent:
    """The consent, if ``person_id`` may ``act`` on it now (the subject or their current
    representative); 404 for an unknown id, 403 otherwise."""
    consent = repo.get_consent(session, consent_id)
    if consent is None:
        raise NotFound("no such consent")
    representation.acting_role(session, person_id, consent.subject_id, utcnow(), act)
    return consent


def list_consents(
    session: Session, subject_id: uuid.UUID, now: datetime, pending: bool = False
) -> list[Consent]:
    expire_due(session, now, subject_id)  # lazily, so nobody sees a stale request
    states = repo.PENDING_STATES if pending else None
    return repo.consents_of_subject(session, subject_id, states)


def feed(session: Session, operator: Organization, since: int, limit: int) -> list[ConsentEvent]:
    return repo.feed(session, operator.id, since, limit)


def receipt_event(session: Session, consent: Consent, kind: str | None = None) -> ConsentEvent:
    """The grant or withdrawal event a receipt is for (the latest one unless ``kind`` says)."""
    kinds = (kind,) if kind else ("given", "withdrawn")
    events = [e for e in repo.events_of(session, consent.id) if e.type in kinds]
    if not events:
        raise Conflict("no grant or withdrawal to give a receipt for", type="no-receipt")
    return events[-1]


def create_access_request(
    session: Session, subject_id: uuid.UUID, person_id: uuid.UUID, *, now: datetime
) -> AccessRequest:
    """Art. 14 access request: due in 10 working days from receipt (check 10)."""
    _require_subject(session, subject_id)
    row = AccessRequest(
        subject_id=subject_id,
        requested_by=person_id,
        received_at=now,
        due_date=deadlines.access_answer_due(now),
        status="open",
    )
    repo.add(session, row)
    obligations.open_access(session, row, now=now)
    audit(
        session,
        "consent.access_request",
        actor=f"person:{person_id}",
        subject=f"person:{subject_id}",
        body={"access_request_id": str(row.id)},
    )
    return row


def access_request_for_person(
    session: Session, request_id: uuid.UUID, person_id: uuid.UUID
) -> AccessRequest:
    row = repo.get_access_request(session, request_id)
    if row is None:
        raise NotFound("no such access request")
    representation.acting_role(session, person_id, row.subject_id, utcnow(), "read")
    return row


def access_answer(
    session: Session, request: AccessRequest, *, now: datetime, settings=None
) -> dict[str, Any]:
    """The art. 14 part 7 answer, built from the ledger, the vault and the transfer log."""
    from idp import service as idp

    if request.status == "refused":
        return _access_refusal(request)
    subject_id = request.subject_id
    consents = repo.consents_of_subject(session, subject_id)
    templates = repo.templates_by_ids(session, [c.template_id for c in consents])
    transfers = repo.transfers_of_subject(session, subject_id, 1000)
    items = repo.vault_items(session, subject_id)
    orgs = repo.organizations_by_ids(
        session,
        [c.operator_id for c in consents]
        + [t.operator_id for t in transfers if t.operator_id]
        + [i.supplier_id for i in items],
    )
    purposes = repo.purposes_by_keys(session, [c.purpose_key for c in consents])
    person = idp.get_person(session, subject_id)
    if request.status != "answered":
        request.status = "answered"
        request.answered_at = now
        session.flush()
        obligations.access_answered(session, request, now=now)
    return {
        "request": {
            "id": str(request.id),
            "received_at": request.received_at.isoformat(),
            "due_date": request.due_date.isoformat(),
            "answered_at": request.answered_at.isoformat() if request.answered_at else None,
        },
        "subject": {"id": str(subject_id), "name": _full_name(person)},
        "processing_confirmed": bool(consents or items or transfers),
        "legal_bases_and_purposes": [
            {
                "consent_id": str(c.id),
                "purpose": c.purpose_key,
                "purpose_title": purposes[c.purpose_key].title if c.purpose_key in purposes else "",
                "legal_basis": purposes[c.purpose_key].legal_basis
                if c.purpose_key in purposes
                else "",
                "state": c.state,
            }
            for c in consents
        ],
        "processing_methods": sorted({m for t in templates.values() for m in t.processing_methods}),
        "operators": [
            _org_brief(orgs[c.operator_id]) | {"consent_id": str(c.id)}
            for c in consents
            if c.operator_id in orgs
        ],
        "recipients": [
            {
                "transfer_id": str(t.id),
                "at": t.at.isoformat(),
                "operator": _org_brief(orgs[t.operator_id]) if t.operator_id in orgs else None,
                "categories": t.allowed,
                "purpose": t.purpose_key,
                "legal_basis": t.legal_basis,
                "consent_ids": t.consent_ids,
            }
            for t in transfers
            if t.decision != "refused"
        ],
        "data_held": [
            {
                "category": i.category_key,
                "source": _org_brief(orgs[i.supplier_id]),
                "updated_at": i.updated_at.isoformat(),
            }
            for i in items
        ],
        "periods": [
            {
                "consent_id": str(c.id),
                "valid_from": c.valid_from.isoformat() if c.valid_from else None,
                "valid_until": c.valid_until.isoformat() if c.valid_until else None,
                "term_days": templates[c.template_id].term_days,
            }
            for c in consents
            if c.template_id in templates
        ],
        "rights_procedure": (
            "Согласие отзывается в личном кабинете или письменным заявлением оператору "
            "(ст. 9 ч. 2 152-ФЗ); запрос сведений — ст. 14 152-ФЗ; ответ — в течение 10 рабочих "
            "дней с даты получения запроса."
        ),
        "cross_border": [
            _org_brief(o) | {"notice_ref": o.cross_border_notice_ref}
            for o in orgs.values()
            if o.cross_border_notice_ref
        ],
        "processors": sorted({t.processor for t in templates.values() if t.processor}),
    }


def _access_refusal(request: AccessRequest) -> dict[str, Any]:
    """A reasoned refusal (art. 14 part 8, art. 20 part 2) instead of the answer."""
    return {
        "request": {
            "id": str(request.id),
            "received_at": request.received_at.isoformat(),
            "due_date": request.due_date.isoformat(),
            "answered_at": request.answered_at.isoformat() if request.answered_at else None,
        },
        "refused": True,
        "refusal_reason": request.refusal_reason,
    }


def _full_name(person) -> str:
    if person is None:
        return ""
    return " ".join(p for p in (person.last_name, person.first_name, person.middle_name) if p)


def _org_brief(org: Organization) -> dict[str, Any]:
    return {
        "id": str(org.id),
        "name": org.name,
        "inn": org.inn,
        "ogrn": org.ogrn,
        "address": org.address,
        "storage_location": org.storage_location,
    }
