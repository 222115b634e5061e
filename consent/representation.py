"""Who may act for a data subject, judged at the moment of the act (152-FZ art. 9; ГК 21, 28).

The subject's age on the day of the act (Moscow date) decides:

| age     | the subject                          | a legal representative               |
| ------- | ------------------------------------ | ------------------------------------ |
| under 14| sees their consents; does not act    | signs, refuses, withdraws, suspends  |
| 14–17   | signs (both sign), refuses, withdraws| signs (both sign), refuses, withdraws|
| 18+     | everything, alone                    | nothing: representation has ended    |

A former representative of an adult is nobody here: a parent cannot withdraw, read or sign a
consent of their 20-year-old, whatever guardianship row is still on file. Every consent route,
the biometric enrolment and the 152-FZ demands go through ``acting_role``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from consent import deadlines
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
    from idp import service as idp

    subject = idp.get_person(session, subject_id)
    if subject is None:
        raise NotFound("no such participant", type="unknown-subject")
    on = deadlines.receipt_date(now)
    age = idp.age_group(subject, on=on)
    if person_id == subject_id:
        if age == "under14" and act not in CHILD_ACTS:
            raise Forbidden(
                "a child under 14 does not act alone: their legal representative does",
                type="representative-required",
                age_group=age,
            )
        return "subject", age
    if any(g.id == person_id for g in idp.guardians_of(session, subject_id, on=on)):
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
    from idp import service as idp

    return any(c.id == subject_id for c in idp.guardianship_children(session, person_id))
