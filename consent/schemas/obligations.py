"""Bodies and answers of the 152-FZ obligations (checks 9–15, ``consent.obligations``).

Participants file demands (stop processing, rectification); operators and the platform record
unlawful processing, incidents, RKN requests and impossible destructions, and resolve them
step by step (``ObligationActionIn``). Every obligation answers as ``ObligationOut``: its
deadline clocks and its append-only events (the dicts ``consent.obligations.view`` builds).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from consent.schemas.base import Answer, Day, Strict, Timestamp

Text = Field(min_length=1, max_length=4000)
Ref = Field(min_length=1, max_length=500)

# --- bodies -----------------------------------------------------------------------------------


class StopProcessingIn(Strict):
    """Check 9: a demand to stop processing (of one consent's data or by one operator)."""

    consent_id: uuid.UUID | None = None
    operator_id: uuid.UUID | None = None
    reason: str | None = Field(default=None, max_length=4000)


class RectificationIn(Strict):
    """Check 11: what is wrong, and the proof: a description of the document, never its full
    number (a passport's series and number or a SNILS → 422 ``proof-too-detailed``)."""

    categories: list[str] = Field(
        min_length=1,
        max_length=50,
        description="catalogue keys (GET /me/categories lists the subject's, with titles); "
        "an unknown one → 422 unknown-category",
    )
    operator_id: uuid.UUID | None = None
    correction: str = Text
    proof: str = Field(
        min_length=1,
        max_length=4000,
        description="the document that proves the correction, described without its number: "
        "«паспорт, выдан 01.02.2020», «справка школы от 01.11.2026»",
    )


class UnlawfulIn(Strict):
    subject_id: uuid.UUID
    categories: list[str] = Field(min_length=1, max_length=50)
    operator_id: uuid.UUID | None = None
    reason: str = Text


class IncidentIn(Strict):
    detected_at: AwareDatetime
    description: str = Text
    subjects_affected: int | None = Field(default=None, ge=0, le=10**9)
    categories: list[str] = Field(default_factory=list, max_length=50)
    operator_id: uuid.UUID | None = None


class RknRequestIn(Strict):
    received_at: AwareDatetime
    rkn_ref: str = Ref
    summary: str = Text
    operator_id: uuid.UUID | None = None


class DeferIn(Strict):
    reason: str = Text


class Performer(Strict):
    name: str = Field(min_length=1, max_length=300)
    position: str = Field(min_length=1, max_length=300)


class DestructionActIn(Strict):
    """RKN Order 179: who destroyed what, how, when, with the processing-log extract."""

    destroyed_on: date
    method: str = Text
    performed_by: list[Performer] = Field(min_length=1, max_length=20)
    carriers: str = Text
    log_extract_ref: str = Ref


class ObligationActionIn(Strict):
    action: Literal[
        "extend",
        "stopped",
        "refuse",
        "rectified",
        "rejected",
        "remedied",
        "destroyed",
        "rkn_notified",
        "results_sent",
        "answered",
    ]
    reason: str | None = Field(default=None, max_length=4000)
    ref: str | None = Field(default=None, max_length=500)
    act: DestructionActIn | None = None


# --- answers ----------------------------------------------------------------------------------


class ObligationClockOut(Answer):
    """One legal deadline of an obligation."""

    name: str
    due_date: Day | None
    due_at: Timestamp
    extended: bool = Field(description="extended once by 5 working days (reasoned)")
    met_at: Timestamp | None


class ObligationEventOut(Answer):
    seq: int
    type: str
    actor: str
    at: Timestamp
    reason: str | None
    payload: dict[str, Any]


class ObligationOut(Answer):
    """An obligation with its clocks and its full event list."""

    id: uuid.UUID
    kind: str = Field(
        description="stop_processing | rectification | access | unlawful | destruction_deferred "
        "| incident | rkn_request"
    )
    status: str
    subject_id: uuid.UUID | None
    operator_id: uuid.UUID | None = Field(description="null: the platform")
    consent_id: uuid.UUID | None
    access_request_id: uuid.UUID | None
    categories: list[str]
    received_at: Timestamp
    closed_at: Timestamp | None
    details: dict[str, Any]
    clocks: list[ObligationClockOut]
    events: list[ObligationEventOut]


class SubjectNoticeOut(Answer):
    """A notice sent to the participant about one of their obligations."""

    id: uuid.UUID
    obligation_id: uuid.UUID
    at: Timestamp
    text: str


class SubjectObligationsOut(Answer):
    subject_id: uuid.UUID
    obligations: list[ObligationOut]
    notices: list[SubjectNoticeOut]


class OpenObligationsOut(Answer):
    obligations: list[ObligationOut] = Field(description="unclosed, with their clocks")


class OverdueClockOut(Answer):
    """A missed deadline of an obligation."""

    kind: str
    obligation_id: uuid.UUID
    clock: str
    due_date: Day | None
    due_at: Timestamp
    operator_id: uuid.UUID | None
    subject_id: uuid.UUID | None


class OverdueDestructionOut(Answer):
    """A destruction task past its 30 days (``kind`` is ``destruction``)."""

    kind: Literal["destruction"]
    task_id: uuid.UUID
    clock: str = Field(description="the task's reason")
    due_date: Day
    due_at: Timestamp
    operator_id: uuid.UUID
    subject_id: uuid.UUID


class OverdueOut(Answer):
    overdue: list[OverdueClockOut | OverdueDestructionOut]
