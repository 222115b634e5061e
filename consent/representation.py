"""Who may act for a data subject, judged at the moment of the act (152-FZ art. 9; ГК 21, 28).

The subject's age on the day of the act (Moscow date) decides:

| age     | the subject                          | a legal representative               |
| ------- | ------------------------------------ | ------------------------------------ |
| under 14| sees their consents; does not act    | signs, refuses, withdraws, suspends  |
| 14–17   | signs (both sign), refuses, withdraws| signs (both sign), refuses, withdraws|
| 18+     | everything, alone                    | nothing: representation has ended    |

A former representative of an adult is nobody here: a parent cannot withdraw, read or sign a
consent of their 20-year-old, whatever guardianship row is still on file. Every consent route,
the biometric enrolment and the 152-FZ demands go through ``acting_role`` (``subject_for`` and
``consent_for_person`` when the route names a subject or a consent).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from consent import deadlines
from consent import repository as repo
from consent.models import Consent
from idp import guardianship, identity
from propusk.db import utcnow
from propusk.errors import Forbidden, NotFound

Act = Literal["read", "sign", "refuse", "withdraw", "suspend", "demand"]
Role = Literal["subject", "guardian"]
# What a child under 14 may do alone: see what concerns them.
CHILD_ACTS: frozenset[str] = frozenset({"read"})


def acting_role(
    session: Session, person_id: uuid.UUID, subject_id: uuid.UUID, now: datetime, act: Act
) -> tuple[Role, str]:
    """(``subject`` | ``guardian``, the subject's age group) if ``person_id`` may do ``act``
    for ``subject_id`` now; else 403 problem+json saying why."""
    subject = identity.get_person(session, subject_id)
    if subject is None:
        raise NotFound("no such participant", type="unknown-subject")
    on = deadlines.receipt_date(now)
    age = guardianship.age_group(subject, on=on)
    if person_id == subject_id:
        if age == "under14" and act not in CHILD_ACTS:
            raise Forbidden(
                "a child under 14 does not act alone: their legal representative does",
                type="representative-required",
                age_group=age,
            )
        return "subject", age
    if any(g.id == person_id for g in guardianship.guardians_of(session, subject_id, on=on)):
        return "guardian", age
    if age == "adult" and _was_guardian(session, person_id, subject_id):
        raise Forbidden(
            "the participant is of age: only they act for themselves",
            type="representation-ended",
            age_group=age,
        )
    raise Forbidden(
        "only the participant or their legal representative may act", type="not-representative"
    )


def _was_guardian(session: Session, person_id: uuid.UUID, subject_id: uuid.UUID) -> bool:
    """A guardianship on file that no longer counts (the child came of age)."""
    return any(c.id == subject_id for c in guardianship.guardianship_children(session, person_id))


def subjects_for(
    session: Session,
    person_id: uuid.UUID,
    subject_id: uuid.UUID | None,
    act: Act = "read",
    now: datetime | None = None,
) -> uuid.UUID:
    """The subject a person may ``act`` for now: themselves or a minor they represent.

    Acting for themselves needs their person row: a principal whose person is gone (e.g. a
    token that outlived it) gets a 404 here, before any ``/me`` write references the id."""
    subject_id = subject_id or person_id
    acting_role(session, person_id, subject_id, now or utcnow(), act)
    return subject_id


def consent_for_person(
    session: Session, consent_id: uuid.UUID, person_id: uuid.UUID, act: Act = "read"
) -> Consent:
    """The consent, if ``person_id`` may ``act`` on it now (the subject or their current
    representative); 404 for an unknown id, 403 otherwise."""
    consent = repo.get_consent(session, consent_id)
    if consent is None:
        raise NotFound("no such consent")
    acting_role(session, person_id, consent.subject_id, utcnow(), act)
    return consent
