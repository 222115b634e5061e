"""The taker's side of an exam: the start, the liveness challenge and periodic frames (never
commits).

The taker starts (an enrolment under an active biometric consent → the biometric path with a
liveness challenge; no consent or no template → the manual path, recorded), passes liveness,
then sends periodic frames; each frame yields a check (match / mismatch / no face / several
faces with the distance), and runs of non-matching frames become flags for the proctor
(``biometrics.proctoring``). A frame seen before in the session (same bytes or same decoded
pixels) is a replay.

Heavy CPU work (decoding, detection, encoding) runs before the taker's row lock is taken; the
locked re-read then decides (a nonce is used once, checks are numbered once).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from audit.service import record as audit
from biometrics import engine, liveness
from biometrics import repository as repo
from biometrics.enrolment import biometric_consent, load_templates
from biometrics.exams import taken_exam
from biometrics.models import ExamCheck, ExamSession, ExamTaker
from biometrics.proctoring import flag_out, keep_evidence, update_flags
from biometrics.retention import purge_expired_evidence
from propusk.errors import Conflict, Problem, ValidationProblem
from propusk.settings import Settings

MAX_LIVENESS_ATTEMPTS = 3
# Only a decision about the face uses up an attempt: a pass, another person, several faces,
# replayed frames, a flat picture. A technical failure (a face lost, too few frames, actions not
# seen — the camera lagged or the taker was slow) lets the taker try again, up to
# ``MAX_LIVENESS_FRAMES`` liveness frames in all (each costs the server a face analysis).
NOT_COUNTED = frozenset({"no_face", "too_few_frames", "actions_not_performed"})
MAX_LIVENESS_FRAMES = 10 * liveness.MAX_FRAMES
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SWEEP_EVERY = 4  # every 4th periodic frame runs the thorough detector (a second, smaller face)
FRAMES_PER_MINUTE = 20  # the page sends 4; more is a client bug or a CPU-exhaustion attempt


# --- the start: path and liveness challenge -----------------------------------------------


def _nonce_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def _choose_path(session: Session, person_id: uuid.UUID, now: datetime) -> tuple[str, str | None]:
    """(path, reason): biometric only with a template made under the active biometric consent."""
    ref = biometric_consent(session, person_id, now)
    tpl = repo.template_of(session, person_id)
    if ref is None:
        return "manual", "no_biometric_consent"
    if tpl is None or tpl.consent_id != ref.id:
        return "manual", "not_enrolled"
    return "biometric", None


def _issue_challenge(
    session: Session, taker: ExamTaker, now: datetime, frame_interval: int
) -> dict[str, Any]:
    """A fresh liveness challenge for the taker (only the nonce's hash is stored)."""
    frames_sent = repo.checks_since(session, taker.id, "liveness", _EPOCH)
    if taker.liveness_attempts >= MAX_LIVENESS_ATTEMPTS or frames_sent >= MAX_LIVENESS_FRAMES:
        raise Conflict(
            "no liveness attempts left; the proctor will verify you manually",
            type="liveness-attempts-exhausted",
        )
    challenge = liveness.new_challenge(now)
    taker.challenge_nonce_hash = _nonce_hash(challenge.nonce)
    taker.challenge_actions = list(challenge.actions)
    taker.challenge_deadline = challenge.deadline
    session.flush()
    return {
        "path": "biometric",
        "liveness_passed": False,
        "challenge": {
            "nonce": challenge.nonce,
            "actions": list(challenge.actions),
            "deadline": challenge.deadline.isoformat(),
            "min_frames": liveness.MIN_FRAMES,
            "max_frames": liveness.MAX_FRAMES,
        },
        "attempts_left": MAX_LIVENESS_ATTEMPTS - taker.liveness_attempts,
        "frame_interval_seconds": frame_interval,
    }


def start(
    session: Session,
    *,
    exam_id: uuid.UUID,
    person_id: uuid.UUID,
    now: datetime,
    frame_interval: int = 15,
) -> dict[str, Any]:
    """Choose the taker's path; on the biometric path issue a fresh liveness challenge.
    ``frame_interval`` (settings.exam_frame_interval_seconds) tells the page how often to send a
    frame once liveness passed."""
    exam, taker = taken_exam(session, exam_id, person_id, now)
    path, reason = _choose_path(session, person_id, now)
    if taker.path != path:
        audit(
            session,
            "exam.path",
            actor=f"person:{person_id}",
            subject=f"person:{person_id}",
            body={"exam_session_id": str(exam.id), "path": path, "reason": reason},
        )
    taker.path, taker.path_reason = path, reason
    taker.started_at = taker.started_at or now
    if path == "manual":
        session.flush()
        return {
            "path": "manual",
            "reason": reason,
            "detail": "the proctor will check your identity document",
        }
    if taker.liveness_passed_at is not None:
        return {
            "path": "biometric",
            "liveness_passed": True,
            "frame_interval_seconds": frame_interval,
        }
    return _issue_challenge(session, taker, now, frame_interval)


# --- frames -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """A decoded upload with its two hashes (bytes: exact replay; pixels: re-encoded replay)."""

    data: bytes
    img: np.ndarray
    sha256: str
    pixels: str


def decode_frame(data: bytes, index: int | None = None) -> Frame:
    """Decode an uploaded frame (4xx with a reason when it is not a usable image)."""
    try:
        img = engine.load_image(data)
    except engine.ImageRejected as exc:
        extra = {"frame": index} if index is not None else {}
        # 413s (bytes or pixels over budget) share the enrolment photos' type
        kind = "image-too-large" if exc.status == 413 else "bad-frame"
        raise Problem(exc.message, status=exc.status, type=kind, reason=exc.code, **extra) from exc
    return Frame(data, img, hashlib.sha256(data).hexdigest(), engine.pixel_hash(img))


def _biometric_taker(
    session: Session, settings: Settings, exam_id: uuid.UUID, person_id: uuid.UUID, now: datetime
) -> tuple[ExamSession, ExamTaker, list[np.ndarray]]:
    exam, taker = taken_exam(session, exam_id, person_id, now)
    if taker.path != "biometric":
        raise Conflict("start the exam first (biometric path only)", type="not-biometric-path")
    tpl = repo.template_of(session, person_id)
    if tpl is None:
        raise Conflict("no enrolment (it may have been withdrawn)", type="not-enrolled")
    return exam, taker, load_templates(settings, tpl)


def _record_check(
    session: Session,
    exam: ExamSession,
    taker: ExamTaker,
    settings: Settings,
    *,
    kind: str,
    result: str,
    faces: int,
    distance: float | None,
    frame: Frame,
    now: datetime,
) -> ExamCheck:
    taker.checks += 1
    check = ExamCheck(
        taker_id=taker.id,
        seq=taker.checks,
        kind=kind,
        result=result,
        faces=faces,
        distance=round(distance, 4) if distance is not None else None,
        frame_sha256=frame.sha256,
        pixel_sha256=frame.pixels,
        at=now,
    )
    repo.add(session, check)
    keep_evidence(session, settings, exam, check, taker.person_id, frame.data, now)
    return check


def _result(faces: int, distance: float | None, settings: Settings) -> str:
    if faces == 0:
        return "no_face"
    if faces > 1:
        return "several_faces"
    return "match" if distance is not None and distance <= settings.face_threshold else "mismatch"


# --- liveness -----------------------------------------------------------------------------


def _check_challenge(taker: ExamTaker, nonce: str, now: datetime) -> None:
    if taker.liveness_passed_at is not None:
        raise Conflict("liveness already passed", type="liveness-passed")
    expected = taker.challenge_nonce_hash
    if not expected or not hmac.compare_digest(expected, _nonce_hash(nonce)):
        raise Conflict("no open challenge with this nonce; start again", type="bad-nonce")
    if taker.challenge_deadline is None or now > taker.challenge_deadline:
        raise Conflict("the challenge has expired; start again", type="challenge-expired")


def _has_duplicates(frames: list[Frame]) -> bool:
    return len({f.sha256 for f in frames}) < len(frames) or len({f.pixels for f in frames}) < len(
        frames
    )


def submit_liveness(
    session: Session,
    settings: Settings,
    *,
    exam_id: uuid.UUID,
    person_id: uuid.UUID,
    nonce: str,
    frames: list[bytes],
    now: datetime,
) -> dict[str, Any]:
    """Judge the frames against the open challenge; the submission is recorded either way, and
    uses up an attempt only when it decided about the face (``NOT_COUNTED``)."""
    exam, taker, templates = _biometric_taker(session, settings, exam_id, person_id, now)
    _check_challenge(taker, nonce, now)
    if not liveness.MIN_FRAMES <= len(frames) <= liveness.MAX_FRAMES:
        raise ValidationProblem(
            f"send {liveness.MIN_FRAMES} to {liveness.MAX_FRAMES} frames", type="frame-count"
        )
    decoded = [decode_frame(data, i) for i, data in enumerate(frames)]
    duplicate = _has_duplicates(decoded)
    observations = [] if duplicate else [liveness.observe(f.img, templates) for f in decoded]
    # judged before the lock too (the flat-picture fit is CPU work); the nonce, re-checked
    # under the lock, names the challenge whose actions were judged
    actions = tuple(taker.challenge_actions or ())
    judged = None if duplicate else liveness.judge(actions, observations, settings.face_threshold)
    locked = repo.taker_for_update(session, exam_id, person_id)
    _check_challenge(locked, nonce, now)  # not consumed by a concurrent submission meanwhile
    replayed = (
        duplicate
        or repo.seen_hashes(
            session, locked.id, [f.sha256 for f in decoded], [f.pixels for f in decoded]
        )
        > 0
    )
    if replayed or judged is None:
        verdict = liveness.LivenessResult(False, "replayed_frames", (), None)
    else:
        verdict = judged
        for f, o in zip(decoded, observations, strict=True):
            _record_check(
                session,
                exam,
                locked,
                settings,
                kind="liveness",
                result=_result(o.faces, o.distance, settings),
                faces=o.faces,
                distance=o.distance,
                frame=f,
                now=now,
            )
    counted = verdict.passed or verdict.reason not in NOT_COUNTED
    locked.liveness_attempts += counted
    locked.challenge_nonce_hash = None
    locked.liveness_reason = verdict.reason
    if verdict.passed:
        locked.liveness_passed_at = now
    session.flush()
    audit(
        session,
        "biometric.liveness",
        actor=f"person:{person_id}",
        subject=f"person:{person_id}",
        body={
            "exam_session_id": str(exam.id),
            "passed": verdict.passed,
            "reason": verdict.reason,
            "frames": len(frames),
            "attempt": locked.liveness_attempts,
            "counted": counted,
        },
    )
    return {
        "passed": verdict.passed,
        "reason": verdict.reason,
        "required": list(actions),
        "completed": list(verdict.completed),
        "median_distance": verdict.median_distance,
        "attempts_left": MAX_LIVENESS_ATTEMPTS - locked.liveness_attempts,
        "attempt_counted": counted,
    }


# --- periodic frames ----------------------------------------------------------------------


def _within_frame_rate(session: Session, taker: ExamTaker, now: datetime) -> None:
    """At most ``FRAMES_PER_MINUTE`` frames a minute (429 before any image is decoded)."""
    recent = repo.checks_since(session, taker.id, "frame", now - timedelta(minutes=1))
    if recent >= FRAMES_PER_MINUTE:
        raise Problem(
            f"at most {FRAMES_PER_MINUTE} frames a minute",
            status=429,
            type="too-many-frames",
            title="Too many requests",
            headers={"Retry-After": "10"},
        )


def check_frame(
    session: Session,
    settings: Settings,
    *,
    exam_id: uuid.UUID,
    person_id: uuid.UUID,
    data: bytes,
    now: datetime,
) -> dict[str, Any]:
    """One periodic frame: match / mismatch / no face / several faces, with the distance."""
    exam, taker, templates = _biometric_taker(session, settings, exam_id, person_id, now)
    if taker.liveness_passed_at is None:
        raise Conflict("pass the liveness challenge first", type="liveness-required")
    _within_frame_rate(session, taker, now)
    frame = decode_frame(data)
    config = engine.SWEEP_CONFIG if taker.checks % SWEEP_EVERY == 0 else engine.DEFAULT_CONFIG
    analysis = engine.analyze(frame.img, config=config)
    distances = [engine.best_distance(templates, f.encoding) for f in analysis.faces]
    distance = min(distances) if distances else None
    result = _result(len(analysis.faces), distance, settings)
    locked = repo.taker_for_update(session, exam_id, person_id)
    if repo.seen_hashes(session, locked.id, [frame.sha256], [frame.pixels]):
        raise Conflict("this frame was already sent (replay)", type="replayed-frame")
    previous = repo.last_checks(session, locked.id, "frame", 1)
    check = _record_check(
        session,
        exam,
        locked,
        settings,
        kind="frame",
        result=result,
        faces=len(analysis.faces),
        distance=distance,
        frame=frame,
        now=now,
    )
    flag = update_flags(session, locked, check, previous[0] if previous else None)
    purge_expired_evidence(session, now)
    audit(
        session,
        "biometric.check",
        actor=f"person:{person_id}",
        subject=f"person:{person_id}",
        body={"exam_session_id": str(exam.id), "seq": check.seq, "result": result},
    )
    return {
        "seq": check.seq,
        "result": result,
        "distance": check.distance,
        "faces": check.faces,
        "flag": flag_out(flag) if flag else None,
    }
