"""Request bodies of the biometrics API (responses are plain dicts built by the service)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from biometrics.service import DOCUMENT_TYPES, MAX_KEEP_DAYS, MAX_TAKERS

DocumentType = Literal[DOCUMENT_TYPES]  # type: ignore[valid-type]


class ExamSessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    school_id: uuid.UUID
    course: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=200)
    opens_at: AwareDatetime
    closes_at: AwareDatetime
    takers: list[uuid.UUID] = Field(min_length=1, max_length=MAX_TAKERS)
    keep_frames_days: int | None = Field(default=None, ge=0, le=MAX_KEEP_DAYS)


class IdentityDocumentIn(BaseModel):
    """What the proctor checked on the manual path (no full document number is stored)."""

    model_config = ConfigDict(extra="forbid")

    type: DocumentType
    number_last4: str | None = Field(default=None, pattern=r"^[0-9A-Za-zА-Яа-я]{4}$")
    matches_photo: bool = True


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["verified", "rejected", "manual_check"]
    note: str | None = Field(default=None, max_length=1000)
    identity_document: IdentityDocumentIn | None = None


def iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None
