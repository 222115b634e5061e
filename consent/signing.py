"""The signing ceremony: the one path by which a person signs or refuses a consent request.

Both the JSON API (``POST /api/v1/consents/{id}/approve``, used by the cabinet) and the hosted
signing page (``/sign/{id}``, where a relying party sends the person) call these functions, so
the checks are the same whichever way a signature arrives:

1. the caller is a person in Propusk's own pages (the login cookie, CSRF-checked): a relying
   party's token never signs, refuses, withdraws or suspends (``policies.delegation``);
2. the person may act for the subject today (``consent.representation``) and the policy allows it;
3. the document is rebuilt and must be the one the person was shown (its SHA-256);
4. written form: a confirmed ESIA account and a login younger than ``step_up_max_age``;
5. the PDF (document + signature block) is made, the signature recorded with the login's real
   method and time and both hashes, and the PDF stored — one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from consent import documents, representation
from consent import repository as repo
from consent.lifecycle import approve
from consent.lifecycle import refuse as refuse_request
from consent.models import Consent, SignedDocument
from consent.representation import consent_for_person
from consent.signatures import Signature, check_signer
from idp import identity
from idp.guardianship import owner_resource
from policies.service import authorize
from propusk.errors import Forbidden, NotFound
from propusk.security import Principal
from propusk.settings import Settings


def _person(principal: Principal) -> uuid.UUID:
    if principal.person_id is None:
        raise Forbidden("a participant login is required", type="not-a-person")
    return principal.person_id


def _authorize(session: Session, principal: Principal, act: str, subject_id: uuid.UUID) -> None:
    authorize(principal, "consent", act, resource=owner_resource(session, subject_id))


@dataclass(frozen=True)
class Prepared:
    """A pending request as one signer sees it before signing."""

    consent: Consent
    role: str
    age_group: str
    document: documents.ConsentDocument


def prepare(
    session: Session, principal: Principal, consent_id: uuid.UUID, now: datetime
) -> Prepared:
    """The document the person would sign now (403 if they may not sign for this subject)."""
    person_id = _person(principal)
    consent = repo.get_consent(session, consent_id)
    if consent is None:
        raise NotFound("no such consent")
    role, age = representation.acting_role(session, person_id, consent.subject_id, now, "sign")
    _authorize(session, principal, "approve", consent.subject_id)
    document = documents.prepare(session, consent, person_id, role)
    return Prepared(consent, role, age, document)


def sign(
    session: Session,
    settings: Settings,
    principal: Principal,
    consent_id: uuid.UUID,
    shown_sha256: str | None,
    now: datetime,
) -> tuple[Consent, SignedDocument]:
    """Sign the request as the document shown (``shown_sha256``); see the module docstring."""
    if not principal.first_party or principal.auth is None:
        raise Forbidden("consents are signed in Propusk's own pages", type="not-delegable")
    prepared = prepare(session, principal, consent_id, now)
    documents.check_shown(prepared.document, shown_sha256)
    check_signer(prepared.consent, principal.auth, now, settings.step_up_max_age)
    signer = identity.get_person(session, principal.person_id)
    block = documents.SignatureBlock(
        identity.full_name(signer),
        prepared.role,
        now,
        principal.auth,
        verify_url=settings.issuer.rstrip("/") + "/verify",
    )
    pdf = documents.render_pdf(prepared.document, block, settings.pdf_font_dir)
    row_id = uuid.uuid4()
    stored = documents.digest(pdf)
    signature = Signature(principal.auth, prepared.document.sha256, stored, row_id)
    consent = approve(
        session,
        consent_id,
        principal.person_id,
        now=now,
        signature=signature,
        max_auth_age=settings.step_up_max_age,
    )
    row = documents.store(session, settings, prepared.document, pdf, row_id=row_id, now=now)
    return consent, row


def refuse(
    session: Session,
    principal: Principal,
    consent_id: uuid.UUID,
    now: datetime,
    reason: str | None = None,
) -> Consent:
    """Refuse the request (no document: nothing is signed)."""
    if not principal.first_party:
        raise Forbidden("consents are refused in Propusk's own pages", type="not-delegable")
    person_id = _person(principal)
    consent = consent_for_person(session, consent_id, person_id, "refuse")
    _authorize(session, principal, "refuse", consent.subject_id)
    return refuse_request(session, consent_id, person_id, now=now, reason=reason)
