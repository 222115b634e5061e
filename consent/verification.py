"""Checking a consent receipt or a signed PDF, for anyone who holds one (no login).

A receipt is a JWS we signed (``consent.receipts``): genuine if our JWKS verifies it (also after
a key rotation: retired keys keep verifying) and its type is a consent receipt. A PDF is genuine
if its SHA-256 is the one a signature recorded (``consent_document.pdf_sha256``, also in the
ledger event and the receipt). Either way the answer adds the consent's *current* state — a
genuine receipt of a consent withdrawn since then must say so.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from consent import catalogue, documents, parties, receipts
from consent import repository as repo
from propusk.errors import Problem
from propusk.settings import Settings


@dataclass
class Result:
    """What the verification page and API answer."""

    valid: bool
    kind: str  # "receipt" | "pdf" | "none"
    reason: str | None = None  # why not valid, in Russian
    consent_id: uuid.UUID | None = None
    state: str | None = None
    operator: str | None = None
    purpose: str | None = None
    categories: list[str] = field(default_factory=list)
    valid_until: str | None = None
    event: str | None = None  # what the receipt records, in Russian
    event_at: str | None = None  # when (Moscow time)
    signers: list[str] = field(default_factory=list)
    document_sha256: str | None = None


def check(
    session: Session,
    settings: Settings,
    *,
    receipt: str | None = None,
    pdf: bytes | None = None,
    max_pdf: int = 5 * 1024 * 1024,
) -> Result:
    """Verify a receipt (JWS text) or a PDF (bytes); one of them."""
    if receipt:
        return _receipt(session, settings, receipt)
    if pdf:
        if len(pdf) > max_pdf:
            return Result(False, "pdf", "Файл слишком большой для документа согласия.")
        return _pdf(session, pdf)
    return Result(False, "none", "Вставьте квитанцию или выберите PDF-файл.")


def check_upload(
    session: Session,
    settings: Settings,
    *,
    text: str | None = None,
    data: bytes | None = None,
    max_pdf: int = 5 * 1024 * 1024,
) -> Result:
    """The verification page's form: pasted receipt text, or a file — the receipt's own file
    (``.jws``, what the cabinet downloads) or the signed PDF."""
    if data and _looks_like_jws(data):
        return check(session, settings, receipt=data.decode("ascii").strip())
    return check(session, settings, receipt=text, pdf=data, max_pdf=max_pdf)


def _looks_like_jws(data: bytes) -> bool:
    head = data[:4096].strip()
    return (
        head.startswith(b"eyJ") and head.count(b".") == 2 and head.isascii() and len(data) < 65536
    )


def _receipt(session: Session, settings: Settings, token: str) -> Result:
    if len(token) > 64 * 1024:
        return Result(False, "receipt", "Это не квитанция Пропуска.")
    try:
        payload = receipts.verify(session, settings, token, receipts.RECEIPT_TYP)
    except Problem:
        return Result(
            False, "receipt", "Подпись квитанции не проверяется: это не квитанция Пропуска."
        )
    try:
        consent_id = uuid.UUID(str(payload.get("consent_id")))
    except ValueError:
        return Result(False, "receipt", "В квитанции нет номера согласия.")
    result = _current(session, consent_id, Result(True, "receipt"))
    result.event = {"given": "согласие дано", "withdrawn": "согласие отозвано"}.get(
        str(payload.get("event")), "событие согласия"
    )
    if isinstance(payload.get("iat"), int):
        result.event_at = documents.local_time(datetime.fromtimestamp(payload["iat"], UTC))
    return result


def _pdf(session: Session, data: bytes) -> Result:
    digest = hashlib.sha256(data).hexdigest()
    return for_document(session, repo.document_by_pdf_hash(session, digest))


def for_document(session: Session, row) -> Result:
    """The answer for the signed document found by its PDF hash (None: not ours)."""
    if row is None:
        return Result(
            False, "pdf", "Такой документ Пропуск не выдавал, или файл изменён после подписания."
        )
    result = _current(session, row.consent_id, Result(True, "pdf"))
    result.document_sha256 = row.document_sha256
    return result


def _current(session: Session, consent_id: uuid.UUID, result: Result) -> Result:
    """The consent as it stands now: state, operator, purpose, data, signers."""
    consent = repo.get_consent(session, consent_id)
    if consent is None:
        return Result(False, result.kind, "Согласие с таким номером не найдено.")
    operator = parties.get(session, consent.operator_id)
    purpose = catalogue.purpose(session, consent.purpose_key)
    titles = catalogue.categories(session, consent.categories)
    result.consent_id = consent.id
    result.state = consent.state
    result.operator = operator.name if operator else None
    result.purpose = purpose.title if purpose else consent.purpose_key
    result.categories = [titles[k].title if k in titles else k for k in consent.categories]
    result.valid_until = documents.local_time(consent.valid_until) if consent.valid_until else None
    result.signers = [_signer(s) for s in consent.signatures]
    return result


def _signer(entry: dict) -> str:
    role = documents.ROLE_RU.get(entry.get("role"), entry.get("role"))
    return f"{role}, {documents.local_time(entry.get('at'))}"
