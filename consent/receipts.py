"""Signed consent receipts and transfer tickets (JWS with the service key, checkable with JWKS).

A receipt follows the Kantara Consent Receipt / ISO/IEC TS 27560 fields that 152-FZ art. 9
part 4 needs: the subject, who signed, the operator, purpose, categories, actions, term,
withdrawal method, the template text hash and the event hash that anchors it in the chain.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from consent.models import Consent, ConsentEvent, Template
from consent.parties import Party
from idp.oidc.keys import InvalidJWS, sign_jws, verify_jws
from propusk.errors import Problem
from propusk.settings import Settings

RECEIPT_TYP = "consent-receipt+jwt"
TICKET_TYP = "transfer-ticket+jwt"


def _ts(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value else None


def receipt_payload(
    settings: Settings,
    consent: Consent,
    event: ConsentEvent,
    template: Template,
    operator: Party,
) -> dict[str, Any]:
    """The receipt claims for one grant or withdrawal event."""
    return {
        "iss": settings.issuer,
        "jti": str(event.id),
        "iat": _ts(event.at),
        "version": "KI-CR-v1.1.0",
        "event": event.type,
        "state": event.to_state,
        "consent_id": str(consent.id),
        "sub": str(consent.subject_id),
        "signers": consent.signatures,
        "operator": {
            "id": str(operator.id),
            "name": operator.name,
            "inn": operator.inn,
            "ogrn": operator.ogrn,
        },
        "purpose": consent.purpose_key,
        "categories": consent.categories,
        "actions": consent.actions,
        "processing_methods": template.processing_methods,
        "processor": template.processor,
        "form": consent.form,
        "valid_from": _ts(consent.valid_from),
        "valid_until": _ts(consent.valid_until),
        "withdrawal_method": template.withdrawal_method,
        "template": {
            "id": str(template.id),
            "version": template.version,
            "text_hash": template.text_hash,
        },
        "event_seq": event.seq,
        "event_hash": event.hash,
        "jurisdiction": "RU",
    }


def sign(session: Session, settings: Settings, payload: dict[str, Any], typ: str) -> str:
    """Sign with the idp service key (published at ``/jwks.json``)."""
    return sign_jws(session, settings, payload, typ)


def verify(session: Session, settings: Settings, token: str, typ: str) -> dict[str, Any]:
    """Verify a JWS we issued; a bad, foreign or wrong-typed token is a 4xx."""
    try:
        header, payload = verify_jws(session, settings, token)
    except InvalidJWS as exc:  # a bad, foreign or retired signature: the caller's fault
        raise Problem("the ticket signature is invalid", status=400, type="invalid-ticket") from exc
    if header.get("typ") != typ:
        raise Problem("not a transfer ticket", status=400, type="invalid-ticket")
    return payload


def ticket_payload(
    settings: Settings,
    *,
    ticket_id: uuid.UUID,
    supplier_id: uuid.UUID,
    operator_id: uuid.UUID,
    subject_id: uuid.UUID,
    purpose: str,
    categories: list[str],
    consent_ids: list[uuid.UUID],
    issued_at: datetime,
    expires_at: datetime,
) -> dict[str, Any]:
    return {
        "iss": settings.issuer,
        "jti": str(ticket_id),
        "iat": _ts(issued_at),
        "exp": _ts(expires_at),
        "supplier": str(supplier_id),
        "aud": str(operator_id),
        "sub": str(subject_id),
        "purpose": purpose,
        "categories": categories,
        "consent_ids": [str(c) for c in consent_ids],
    }
