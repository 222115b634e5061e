"""A participant's 152-FZ demands (checks 9, 10, 11), each opened as an obligation with its clock.

* 9  stop processing (art. 21 part 5.1): a given consent named in it is suspended at once; the
     operator confirms the stop within 10 WD (one +5 WD extension with a reasoned notice).
* 10 access request (art. 14, 20 parts 1–2): 10 WD, +5 WD with a reasoned notice, or a reasoned
     refusal inside the period; answering (``consent.access.access_answer``) meets the clock.
* 11 rectification (art. 20 part 3, 21 parts 1–2): the categories are blocked at once for the
     7-WD check; rectified or rejected (with reason) lifts the block.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from consent import repository as repo
from consent.catalogue import require_categories
from consent.lifecycle import suspend
from consent.models import AccessRequest, Obligation
from consent.obligations import blocks, clocks, journal
from consent.obligations import repository as orepo
from propusk.errors import NotFound, ValidationProblem

# A rectification's proof describes the document («паспорт, выдан 01.02.2020»); its number stays
# with the person. Refused: a passport's series and number (10 digits, «45 06 123456»), a SNILS
# («123-456-789 01») or any other run of 10 or more digits.
FULL_NUMBERS = (
    re.compile(r"(?<!\d)\d{2}\s?\d{2}\s*(?:№|N|No\.?)?\s*\d{6}(?!\d)"),
    re.compile(r"(?<!\d)\d{3}[\s-]?\d{3}[\s-]?\d{3}[\s-]?\d{2}(?!\d)"),
    re.compile(r"\d{10,}"),
)


def file_stop_processing(
    session: Session,
    subject_id: uuid.UUID,
    person_id: uuid.UUID,
    *,
    consent_id: uuid.UUID | None,
    operator_id: uuid.UUID | None,
    reason: str | None,
    now: datetime,
) -> Obligation:
    """Check 9: a demand to stop processing; a given consent named in it is suspended at once
    (the gate refuses), and the operator must confirm the stop within 10 WD."""
    categories: list[str] = []
    if consent_id is not None:
        consent = repo.get_consent(session, consent_id)
        if consent is None or consent.subject_id != subject_id:
            raise NotFound("no such consent of this participant", type="unknown-consent")
        operator_id, categories = consent.operator_id, list(consent.categories)
        if consent.state == "given":
            suspend(session, consent_id, person_id, now=now, reason=reason)
    operator_id = journal.known_operator(session, operator_id)
    actor = f"person:{person_id}"
    obligation = journal.open_obligation(
        session,
        kind="stop_processing",
        actor=actor,
        now=now,
        clocks=[clocks.working_days("stop", now, clocks.STOP_PROCESSING_WD)],
        subject_id=subject_id,
        operator_id=operator_id,
        categories=categories,
        reason=reason,
        consent_id=consent_id,
    )
    journal.audit_step(session, obligation, "opened", actor)
    return obligation


def require_plain_proof(proof: str) -> None:
    """Refuse a proof that carries a full passport, SNILS or other document number."""
    if any(pattern.search(proof) for pattern in FULL_NUMBERS):
        raise ValidationProblem(
            "the proof must describe the document without its full number "
            "(e.g. «паспорт, выдан 01.02.2020»), not carry a passport or SNILS number",
            type="proof-too-detailed",
            field="proof",
        )


def open_access(session: Session, request: AccessRequest, *, now: datetime) -> Obligation:
    """Check 10: the clock of an art. 14 request (answered by the platform, the ЦОС operator)."""
    return journal.open_obligation(
        session,
        kind="access",
        actor=f"person:{request.requested_by}",
        now=now,
        received_at=request.received_at,
        clocks=[clocks.working_days("answer", request.received_at, clocks.ACCESS_ANSWER_WD)],
        subject_id=request.subject_id,
        access_request_id=request.id,
    )


def access_answered(session: Session, request: AccessRequest, *, now: datetime) -> None:
    """The answer was given: meet the clock (called when the answer is first produced)."""
    obligation = orepo.by_access_request(session, request.id)
    if obligation is None or obligation.closed_at is not None:
        return
    clocks.meet(session, obligation, ("answer",), now)
    obligation.status = "answered"
    obligation.closed_at = now
    journal.append(session, obligation, "answered", "system", now)
    journal.audit_step(session, obligation, "answered", "system")


def file_rectification(
    session: Session,
    subject_id: uuid.UUID,
    person_id: uuid.UUID,
    *,
    categories: list[str],
    operator_id: uuid.UUID | None,
    correction: str,
    proof: str,
    now: datetime,
) -> Obligation:
    """Check 11: with proof, the categories are blocked at once for the 7-WD check. The proof
    describes a document without its full number (422 ``proof-too-detailed``); the categories
    are the catalogue's (422 ``unknown-category``)."""
    require_plain_proof(proof)
    keys = list(require_categories(session, categories))
    operator_id = journal.known_operator(session, operator_id)
    actor = f"person:{person_id}"
    obligation = journal.open_obligation(
        session,
        kind="rectification",
        actor=actor,
        now=now,
        clocks=[clocks.working_days("check", now, clocks.RECTIFICATION_WD)],
        subject_id=subject_id,
        operator_id=operator_id,
        categories=keys,
        details={"correction": correction, "proof": proof},
    )
    blocks.block(session, obligation, None, now)
    journal.append(session, obligation, "blocked", "system", now, payload={"categories": keys})
    journal.audit_step(session, obligation, "opened", actor)
    return obligation
