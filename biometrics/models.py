"""SQLAlchemy models of the biometrics package: templates, exam sessions, checks, flags.

Nothing biometric is stored in clear: the template is an AES-GCM blob bound (associated data) to
its person and consent; evidence frames, kept only when a session asks for it, are encrypted
the same way and carry their destruction date.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy import Uuid as SAUuid
from sqlalchemy.orm import Mapped, mapped_column

from propusk.db import Base, UTCDateTime, new_id, utcnow

CHECK_RESULTS = ("match", "mismatch", "no_face", "several_faces")
DECISIONS = ("verified", "rejected", "manual_check")
PATHS = ("biometric", "manual")


class FaceTemplate(Base):
    """One person's enrolment: 1–3 encodings, encrypted, made under one biometric consent."""

    __tablename__ = "biometric_template"

    id: Mapped[uuid.UUID] = mapped_column(SAUuid, primary_key=True, default=new_id)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), unique=True)
    consent_id: Mapped[uuid.UUID] = mapped_column(SAUuid, index=True)
    template_enc: Mapped[bytes] = mapped_column(LargeBinary)
    # the reference portrait the proctor compares with (JPEG, encrypted; same consent, same row)
    photo_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    photos: Mapped[int] = mapped_column(Integer)
    engine: Mapped[str] = mapped_column(String(40))
    enrolled_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExamSession(Base):
    """An attestation exam of a course, run by a proctor of the school in a time window."""

    __tablename__ = "exam_session"

    id: Mapped[uuid.UUID] = mapped_column(SAUuid, primary_key=True, default=new_id)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("school.id"), index=True)
    proctor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    course: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    keep_frames_days: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExamTaker(Base):
    """A student in a session: path (biometric or manual), liveness state and the decision."""

    __tablename__ = "exam_taker"
    __table_args__ = (UniqueConstraint("session_id", "person_id", name="uq_exam_taker_pair"),)

    id: Mapped[uuid.UUID] = mapped_column(SAUuid, primary_key=True, default=new_id)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exam_session.id"), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    path: Mapped[str | None] = mapped_column(String(16))
    path_reason: Mapped[str | None] = mapped_column(String(40))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    challenge_nonce_hash: Mapped[str | None] = mapped_column(String(64))
    challenge_actions: Mapped[list[str] | None] = mapped_column(JSON)
    challenge_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    liveness_attempts: Mapped[int] = mapped_column(Integer, default=0)
    liveness_passed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    liveness_reason: Mapped[str | None] = mapped_column(String(40))
    checks: Mapped[int] = mapped_column(Integer, default=0)
    decision: Mapped[str | None] = mapped_column(String(16))
    decision_basis: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(SAUuid)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ExamCheck(Base):
    """One frame's verdict (liveness or periodic). The frame itself is not kept by default."""

    __tablename__ = "exam_check"
    __table_args__ = (
        UniqueConstraint("taker_id", "seq", name="uq_exam_check_seq"),
        Index("ix_exam_check_taker_frame", "taker_id", "frame_sha256"),
        Index("ix_exam_check_taker_pixels", "taker_id", "pixel_sha256"),
    )

    id: Mapped[uuid.UUID] = mapped_column(SAUuid, primary_key=True, default=new_id)
    taker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exam_taker.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # liveness | frame
    result: Mapped[str] = mapped_column(String(16))
    faces: Mapped[int] = mapped_column(Integer)
    distance: Mapped[float | None] = mapped_column(Float)
    frame_sha256: Mapped[str] = mapped_column(String(64))
    pixel_sha256: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExamFlag(Base):
    """A run of consecutive non-matching frames of one kind, for the proctor's attention."""

    __tablename__ = "exam_flag"

    id: Mapped[uuid.UUID] = mapped_column(SAUuid, primary_key=True, default=new_id)
    taker_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exam_taker.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    first_seq: Mapped[int] = mapped_column(Integer)
    last_seq: Mapped[int] = mapped_column(Integer)
    frames: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExamEvidence(Base):
    """An encrypted frame kept as evidence until ``expires_at`` (only when the session asks)."""

    __tablename__ = "exam_evidence"

    id: Mapped[uuid.UUID] = mapped_column(SAUuid, primary_key=True, default=new_id)
    check_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exam_check.id"), unique=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    frame_enc: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
