"""What the proctor works with: flags, evidence frames, the exam view and decisions (never
commits).

* A run of ``FLAG_AFTER`` consecutive periodic frames with the same non-match result (mismatch,
  no face, several faces) becomes a flag; one frame is noise.
* Evidence frames are kept, encrypted, only when the exam session asks for them (their
  expiry is enforced by ``biometrics.retention``).
* The proctor's view shows each taker's path, liveness, timeline, flags and a suggestion drawn
  from several frames; the decision records its basis (the evidence summary at that moment), and
  «личность подтверждена» (``verified``) needs a completed check or a matching identity document.
* The identity-check record goes with the exam result only under the participant's consent.
"""

from __future__ import annotations

import statistics
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from audit.service import record as audit
from audit.service import record_deferred
from biometrics import repository as repo
from biometrics.enrolment import biometric_consent, load_portrait
from biometrics.exams import proctored_exam, taker_people, window_state
from biometrics.models import (
    DECISIONS,
    ExamCheck,
    ExamEvidence,
    ExamFlag,
    ExamSession,
    ExamTaker,
)
from consent import gate
from idp import schools
from propusk import crypto
from propusk.errors import Conflict, Forbidden, NotFound, ValidationProblem
from propusk.settings import Settings

RESULT_CATEGORY = "education.grades"  # the exam result the school counts
RESULT_PURPOSE = "attestation.online"
FLAG_AFTER = 2  # consecutive non-matching frames of one kind before a flag: one frame is noise
SUMMARY_WINDOW = 5
DOCUMENT_TYPES = ("passport", "birth_certificate", "foreign_passport", "student_card", "other")
RESULTS = ("match", "mismatch", "no_face", "several_faces")


# --- evidence and flags (written while the taker sends frames) ----------------------------


def keep_evidence(
    session: Session,
    settings: Settings,
    exam: ExamSession,
    check: ExamCheck,
    person_id: uuid.UUID,
    data: bytes,
    now: datetime,
) -> None:
    """Keep the frame of a check, encrypted, if the exam session keeps frames at all."""
    days = exam.keep_frames_days
    if days <= 0:
        return
    aad = f"exam-frame:{check.id}".encode()
    session.add(
        ExamEvidence(
            check_id=check.id,
            person_id=person_id,
            frame_enc=crypto.encrypt(settings.kek_bytes, data, aad),
            expires_at=now + timedelta(days=days),
        )
    )


def update_flags(
    session: Session, taker: ExamTaker, check: ExamCheck, previous: ExamCheck | None
) -> ExamFlag | None:
    """A run of ``FLAG_AFTER`` consecutive frames with the same non-match result is a flag."""
    if check.result == "match" or previous is None or previous.result != check.result:
        return None
    if previous.seq != check.seq - 1:
        return None
    flag = repo.open_flag(session, taker.id, check.result, check.seq)
    if flag is None:
        flag = ExamFlag(
            taker_id=taker.id,
            kind=check.result,
            first_seq=previous.seq,
            last_seq=check.seq,
            frames=FLAG_AFTER,
            started_at=previous.at,
            last_at=check.at,
        )
        repo.add(session, flag)
    else:
        flag.last_seq, flag.last_at, flag.frames = check.seq, check.at, flag.frames + 1
        session.flush()
    return flag


def flag_out(flag: ExamFlag) -> dict[str, Any]:
    """A flag as the API shows it."""
    return {
        "kind": flag.kind,
        "first_seq": flag.first_seq,
        "last_seq": flag.last_seq,
        "frames": flag.frames,
        "started_at": flag.started_at.isoformat(),
        "last_at": flag.last_at.isoformat(),
    }


# --- the proctor's view -------------------------------------------------------------------


def _summary(
    taker: ExamTaker, checks: list[ExamCheck], flags: list[ExamFlag], threshold: float
) -> dict[str, Any]:
    """Counts and a suggestion from several frames (never from one)."""
    frames = [c for c in checks if c.kind == "frame"]
    counts = {r: sum(1 for c in frames if c.result == r) for r in RESULTS}
    recent = [
        c.distance for c in frames[-SUMMARY_WINDOW:] if c.distance is not None and c.faces == 1
    ]
    median = round(statistics.median(recent), 4) if recent else None
    if taker.path != "biometric":
        suggestion = "manual_check"
    elif (
        taker.liveness_passed_at is not None
        and len(recent) >= 3
        and median is not None
        and median <= threshold
        and not flags
    ):
        suggestion = "consistent_match"
    else:
        suggestion = "review"
    return {
        "frames": len(frames),
        **counts,
        "recent_median_distance": median,
        "suggestion": suggestion,
    }


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def _attention(t: ExamTaker, flags: list[ExamFlag], suggestion: str) -> int:
    """Where the taker goes in the proctor's list: 0 flagged and undecided, 1 undecided with
    something to review (a failed liveness attempt, the manual path, no steady match), 2
    undecided and steady or not started, 3 decided."""
    if t.decision is not None:
        return 3
    if flags:
        return 0
    failed = t.liveness_passed_at is None and t.liveness_attempts > 0
    if failed or (t.started_at is not None and suggestion != "consistent_match"):
        return 1
    return 2


def _latest_frame(checks: list[ExamCheck], kept: set[uuid.UUID]) -> dict[str, Any] | None:
    """The newest check (liveness or periodic) and whether its frame is kept to be shown."""
    if not checks:
        return None
    c = checks[-1]
    return {
        "seq": c.seq,
        "at": c.at.isoformat(),
        "kind": c.kind,
        "result": c.result,
        "distance": c.distance,
        "kept": c.id in kept,
    }


def _taker_out(
    t: ExamTaker,
    checks: list[ExamCheck],
    flags: list[ExamFlag],
    threshold: float,
    person: tuple[str, str | None],
    has_photo: bool,
    kept: set[uuid.UUID],
) -> dict[str, Any]:
    summary = _summary(t, checks, flags, threshold)
    return {
        "person_id": str(t.person_id),
        "name": person[0],
        "class_name": person[1],
        "has_photo": has_photo,
        "attention": _attention(t, flags, summary["suggestion"]),
        "latest": _latest_frame(checks, kept),
        "path": t.path,
        "path_reason": t.path_reason,
        "started_at": _iso(t.started_at),
        "liveness": {
            "passed": t.liveness_passed_at is not None,
            "passed_at": _iso(t.liveness_passed_at),
            "attempts": t.liveness_attempts,
            "last_reason": t.liveness_reason,
        },
        "timeline": [
            {
                "seq": c.seq,
                "at": c.at.isoformat(),
                "kind": c.kind,
                "result": c.result,
                "faces": c.faces,
                "distance": c.distance,
            }
            for c in checks
        ],
        "flags": [flag_out(f) for f in flags],
        "summary": summary,
        "decision": _decision_out(t),
    }


def exam_view(
    session: Session, settings: Settings, exam: ExamSession, now: datetime
) -> dict[str, Any]:
    """The proctor's view: takers (name, class, whether an enrolment photo is on file) with
    paths, liveness, timelines, flags and decisions, the ones needing attention first."""
    takers = repo.takers_of(session, exam.id)
    ids = [t.id for t in takers]
    checks = repo.checks_of(session, ids)
    flags = repo.flags_of(session, ids)
    people = taker_people(session, exam.school_id, [t.person_id for t in takers])
    latest = {}
    for c in checks:
        latest[c.taker_id] = c
    kept = repo.kept_check_ids(session, [c.id for c in latest.values()])
    out = [
        _taker_out(
            t,
            [c for c in checks if c.taker_id == t.id],
            [f for f in flags if f.taker_id == t.id],
            settings.face_threshold,
            people.get(t.person_id, ("", None)),
            _has_photo(session, t.person_id),
            kept,
        )
        for t in takers
    ]
    out.sort(key=lambda t: (t["attention"], t["name"]))
    return {
        "id": str(exam.id),
        "school_id": str(exam.school_id),
        "school_name": schools.get_school(session, exam.school_id).name,
        "window": window_state(exam, now),
        "proctor_id": str(exam.proctor_id),
        "course": exam.course,
        "title": exam.title,
        "opens_at": exam.opens_at.isoformat(),
        "closes_at": exam.closes_at.isoformat(),
        "keep_frames_days": exam.keep_frames_days,
        "threshold": settings.face_threshold,
        "takers": out,
    }


def _has_photo(session: Session, person_id: uuid.UUID) -> bool:
    tpl = repo.template_of(session, person_id)
    return tpl is not None and tpl.photo_enc is not None


def enrolment_photo(
    session: Session,
    settings: Settings,
    exam: ExamSession,
    person_id: uuid.UUID,
    now: datetime,
    *,
    viewer: uuid.UUID,
) -> bytes:
    """The taker's reference portrait (JPEG) for the session's proctor: only while the taker's
    biometric consent it was made under is active (404 otherwise). Never logged; who looked at
    it is audited (``biometric.photo.viewed``: the session, never the photo)."""
    if repo.taker(session, exam.id, person_id) is None:
        raise NotFound("not a taker of this exam session")
    tpl = repo.template_of(session, person_id)
    ref = biometric_consent(session, person_id, now)
    photo = load_portrait(settings, tpl) if tpl and ref and ref.id == tpl.consent_id else None
    if photo is None:
        raise NotFound("no enrolment photo on file", type="no-enrolment-photo")
    record_deferred(
        session,
        "biometric.photo.viewed",
        actor=f"person:{viewer}",
        subject=f"person:{person_id}",
        body={"exam_session_id": str(exam.id), "consent_id": str(tpl.consent_id)},
    )
    return photo


def image_type(data: bytes) -> str:
    """The media type of a kept frame (frames arrive as JPEG, PNG or WebP)."""
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "image/jpeg"


def kept_frame(
    session: Session,
    settings: Settings,
    exam: ExamSession,
    person_id: uuid.UUID,
    seq: int,
    now: datetime,
) -> bytes:
    """A checked frame of the taker kept as evidence (404 when it was not kept or expired)."""
    taker = repo.taker(session, exam.id, person_id)
    found = repo.evidence_of_check(session, taker.id, seq) if taker else None
    if found is None or found[1].expires_at <= now:
        raise NotFound("the frame is not kept", type="frame-not-kept")
    check, evidence = found
    return crypto.decrypt(settings.kek_bytes, evidence.frame_enc, f"exam-frame:{check.id}".encode())


# --- decisions ----------------------------------------------------------------------------


def _decision_out(t: ExamTaker) -> dict[str, Any] | None:
    if t.decision is None:
        return None
    return {
        "decision": t.decision,
        "basis": t.decision_basis,
        "decided_by": str(t.decided_by),
        "decided_at": _iso(t.decided_at),
    }


def _identity_established(
    taker: ExamTaker, checks: list[ExamCheck], identity_document: dict[str, Any] | None
) -> bool:
    """What a ``verified`` decision rests on: the document path (the proctor saw an identity
    document that matches the face — the manual path, or a biometric taker whose liveness
    failed), or the completed biometric check (liveness passed and a frame matched the
    enrolled template). The proctor's word alone is not evidence."""
    if identity_document and identity_document.get("matches_photo", True):
        return True
    return (
        taker.path == "biometric"
        and taker.liveness_passed_at is not None
        and any(c.result == "match" for c in checks)
    )


def _decided_taker(
    session: Session,
    exam_id: uuid.UUID,
    person_id: uuid.UUID,
    decision: str,
    identity_document: dict[str, Any] | None,
) -> tuple[ExamTaker, list[ExamCheck]]:
    """The locked taker row and its checks, if ``decision`` may be recorded for it."""
    if decision not in DECISIONS:
        raise ValidationProblem(
            "decision is verified, rejected or manual_check", type="bad-decision"
        )
    taker = repo.taker_for_update(session, exam_id, person_id)
    if taker is None:
        raise NotFound("not a taker of this exam session")
    manual = taker.path != "biometric"
    if manual and decision == "verified" and not identity_document:
        raise ValidationProblem(
            "on the manual path a verified decision needs the identity document check",
            type="identity-document-required",
        )
    checks = repo.checks_of(session, [taker.id])
    if decision == "verified" and not _identity_established(taker, checks, identity_document):
        raise Conflict(
            "«личность подтверждена» needs a completed check (liveness passed and a matching "
            "frame) or an identity document that matches the face",
            type="identity-not-established",
        )
    return taker, checks


def decide(
    session: Session,
    settings: Settings,
    *,
    exam_id: uuid.UUID,
    proctor_id: uuid.UUID,
    person_id: uuid.UUID,
    decision: str,
    note: str,
    identity_document: dict[str, Any] | None,
    now: datetime,
) -> dict[str, Any]:
    """Record the proctor's decision with its basis (the evidence summary at that moment)."""
    exam = proctored_exam(session, exam_id, proctor_id)
    if not (note or "").strip():
        raise ValidationProblem("a decision needs its reason", type="decision-reason-required")
    taker, checks = _decided_taker(session, exam_id, person_id, decision, identity_document)
    flags = repo.flags_of(session, [taker.id])
    taker.decision = decision
    taker.decision_basis = {
        "path": taker.path or "manual",
        "path_reason": taker.path_reason or ("not_started" if taker.path is None else None),
        "note": note,
        "identity_document": identity_document,
        "liveness_passed": taker.liveness_passed_at is not None,
        "summary": _summary(taker, checks, flags, settings.face_threshold),
        "flags": [f.kind for f in flags],
        "threshold": settings.face_threshold,
    }
    taker.decided_by = proctor_id
    taker.decided_at = now
    session.flush()
    audit(
        session,
        "exam.decision",
        actor=f"person:{proctor_id}",
        subject=f"person:{person_id}",
        body={
            "exam_session_id": str(exam.id),
            "decision": decision,
            "path": taker.decision_basis["path"],
            "identity_document": (identity_document or {}).get("type"),
        },
    )
    return _decision_out(taker)


def attestation_for_result(
    session: Session, *, exam_id: uuid.UUID, person_id: uuid.UUID, now: datetime
) -> dict[str, Any]:
    """The identity-check record to attach to the exam result the school counts.

    Transferred only under the participant's consent for the exam result
    (``education.grades`` for ``attestation.online``); refused otherwise.
    """
    taker = repo.taker(session, exam_id, person_id)
    if taker is None:
        raise NotFound("not a taker of this exam session")
    if taker.decision is None:
        raise Conflict("the proctor has not decided yet", type="no-decision")
    ref = gate.has_active_consent(session, person_id, RESULT_CATEGORY, RESULT_PURPOSE, now=now)
    if ref is None:
        raise Forbidden(
            "the participant has not consented to the transfer of the exam result",
            type="transfer-consent-required",
        )
    basis = taker.decision_basis or {}
    return {
        "exam_session_id": str(exam_id),
        "person_id": str(person_id),
        "identity_check": taker.decision,
        "path": basis.get("path"),
        "liveness_passed": basis.get("liveness_passed"),
        "decided_at": _iso(taker.decided_at),
        "consent_id": str(ref.id),
    }
