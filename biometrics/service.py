"""Biometric enrolment and exam proctoring: the business rules (never commits).

* Enrolment needs an active, written biometric consent (152-FZ art. 11) from the consent ledger,
  signed by whoever the participant's age requires. The template is encrypted under the KEK with
  the person and consent as associated data, never returned, never logged.
* Withdrawing that consent destroys the template (and any evidence frames) in the withdrawing
  transaction (a hook registered with ``consent.service.on_withdrawal``).
* Exam sessions: the taker starts (biometric path → a liveness challenge; no consent or no
  template → the manual path, recorded), passes liveness, then sends periodic frames; each frame
  yields a check and runs of non-matching frames become flags. The proctor decides.

Heavy CPU work (decoding, detection, encoding) runs before any row lock is taken.
"""

from __future__ import annotations

import hashlib
import hmac
import statistics
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from audit.service import record as audit
from biometrics import engine, liveness, quality
from biometrics import repository as repo
from biometrics.models import (
    DECISIONS,
    ExamCheck,
    ExamEvidence,
    ExamFlag,
    ExamSession,
    ExamTaker,
    FaceTemplate,
)
from propusk import crypto
from propusk.errors import Conflict, Forbidden, NotFound, Problem, ValidationProblem
from propusk.settings import Settings

CATEGORY = "biometric.face_template"
PURPOSE = "biometric.identification"
RESULT_CATEGORY = "education.grades"  # the exam result the school counts
RESULT_PURPOSE = "attestation.online"
MAX_PHOTOS = 3
MAX_TAKERS = 500
MAX_KEEP_DAYS = 90
MAX_LIVENESS_ATTEMPTS = 3
FLAG_AFTER = 2  # consecutive non-matching frames of one kind before a flag: one frame is noise
SWEEP_EVERY = 4  # every 4th periodic frame runs the thorough detector (a second, smaller face)
SUMMARY_WINDOW = 5
FRAME_INTERVAL_SECONDS = 15
FRAMES_PER_MINUTE = 20  # the page sends 4; more is a client bug or a CPU-exhaustion attempt
DOCUMENT_TYPES = ("passport", "birth_certificate", "foreign_passport", "student_card", "other")


# --- consent ------------------------------------------------------------------------------


def biometric_consent(session: Session, subject_id: uuid.UUID, now: datetime) -> Any | None:
    """The subject's active written biometric consent signed as their age requires, or None."""
    from consent import service as consent_service
    from idp import service as idp

    ref = consent_service.has_active_consent(session, subject_id, CATEGORY, PURPOSE, now=now)
    if ref is None or ref.form != "written":
        return None
    if not all(consent_service.signed_as_written(s) for s in ref.signers):
        return None  # art. 11 written form: every signature a document signed after ESIA login
    person = idp.get_person(session, subject_id)
    needed = consent_service.required_roles(idp.age_group(person, on=idp.local_date(now)))
    if not needed <= {s.get("role") for s in ref.signers}:
        return None
    return ref


def _require_person(session: Session, person_id: uuid.UUID) -> Any:
    from idp import service as idp

    person = idp.get_person(session, person_id)
    if person is None:
        raise NotFound("no such participant", type="unknown-person")
    return person


def acting_for(
    session: Session, actor_id: uuid.UUID, subject_id: uuid.UUID | None, act: str = "read"
) -> uuid.UUID:
    """Self, or a child the actor is the legal representative of (else 403)."""
    from consent import service as consent_service

    return consent_service.subjects_for(session, actor_id, subject_id, act)


# --- templates ----------------------------------------------------------------------------


def _template_aad(person_id: uuid.UUID, consent_id: uuid.UUID) -> bytes:
    return f"biometric-template:{person_id}:{consent_id}".encode()


def load_templates(settings: Settings, tpl: FaceTemplate) -> list[np.ndarray]:
    """Decrypt a template (only inside the service: it never leaves it)."""
    blob = crypto.decrypt(
        settings.kek_bytes, tpl.template_enc, _template_aad(tpl.person_id, tpl.consent_id)
    )
    return engine.unpack_encodings(blob)


@dataclass(frozen=True)
class PhotoReport:
    index: int
    ok: bool
    reasons: tuple[str, ...]
    encoding: np.ndarray | None


def analyse_photos(photos: list[bytes]) -> list[PhotoReport]:
    """Quality-check every photo (CPU only, no database); reasons name each failure."""
    reports = []
    for i, data in enumerate(photos):
        try:
            img = engine.load_image(data)
        except engine.ImageRejected as exc:
            if exc.status == 413:
                raise Problem(exc.message, status=413, type="image-too-large", photo=i) from exc
            reports.append(PhotoReport(i, False, (exc.code,), None))
            continue
        analysis = engine.analyze(img, config=engine.SWEEP_CONFIG)
        q = quality.assess(img, analysis)
        enc = analysis.faces[0].encoding if q.ok else None
        reports.append(PhotoReport(i, q.ok, q.reasons, enc))
    return reports


def require_biometric_consent(session: Session, subject_id: uuid.UUID, now: datetime) -> Any:
    """The consent enrolment is made under, or 403 (checked before any photo is decoded)."""
    _require_person(session, subject_id)
    ref = biometric_consent(session, subject_id, now)
    if ref is None:
        raise Forbidden(
            "enrolment needs the participant's active written biometric consent "
            "(152-FZ art. 11); the exam can still be verified manually by the proctor",
            type="biometric-consent-required",
        )
    return ref


def enrol(
    session: Session,
    settings: Settings,
    *,
    actor_id: uuid.UUID,
    subject_id: uuid.UUID,
    reports: list[PhotoReport],
    now: datetime,
) -> FaceTemplate:
    """Create or replace the subject's template from quality-checked photos."""
    ref = require_biometric_consent(session, subject_id, now)
    if not 1 <= len(reports) <= MAX_PHOTOS:
        raise ValidationProblem(f"send 1 to {MAX_PHOTOS} photos", type="photo-count")
    rejected = [
        {
            "photo": r.index,
            "reasons": list(r.reasons),
            "detail": [quality.REASONS.get(x, x) for x in r.reasons],
        }
        for r in reports
        if not r.ok
    ]
    if rejected:
        raise Problem(
            "a photo did not pass the quality checks",
            status=422,
            type="photo-quality",
            title="Photo rejected",
            photos=rejected,
        )
    encodings = [r.encoding for r in reports if r.encoding is not None]
    worst = max(
        (engine.distance(a, b) for i, a in enumerate(encodings) for b in encodings[i + 1 :]),
        default=0.0,
    )
    if worst > settings.face_threshold:
        raise Problem(
            "the photos do not show the same person",
            status=422,
            type="photos-differ",
            title="Photos differ",
        )
    blob = crypto.encrypt(
        settings.kek_bytes, engine.pack_encodings(encodings), _template_aad(subject_id, ref.id)
    )
    repo.delete_template(session, subject_id)
    tpl = FaceTemplate(
        person_id=subject_id,
        consent_id=ref.id,
        template_enc=blob,
        photos=len(encodings),
        engine=engine.ENGINE_VERSION,
        enrolled_by=f"person:{actor_id}",
        created_at=now,
    )
    repo.add(session, tpl)
    audit(
        session,
        "biometric.enrolled",
        actor=f"person:{actor_id}",
        subject=f"person:{subject_id}",
        body={"consent_id": str(ref.id), "photos": len(encodings), "engine": engine.ENGINE_VERSION},
    )
    return tpl


def enrolment_status(session: Session, subject_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    """Status only (never the template)."""
    _require_person(session, subject_id)
    tpl = repo.template_of(session, subject_id)
    ref = biometric_consent(session, subject_id, now)
    return {
        "person_id": str(subject_id),
        "enrolled": tpl is not None,
        "photos": tpl.photos if tpl else 0,
        "enrolled_at": tpl.created_at.isoformat() if tpl else None,
        "engine": tpl.engine if tpl else None,
        "consent_id": str(tpl.consent_id) if tpl else None,
        "biometric_consent_active": ref is not None,
        "evidence_frames": repo.evidence_count(session, subject_id),
    }


def destroy_template(
    session: Session,
    subject_id: uuid.UUID,
    *,
    actor: str,
    reason: str,
    consent_id: uuid.UUID | None = None,
) -> bool:
    """Delete the template and evidence frames; audit ``biometric.template_destroyed``."""
    tpl = repo.template_of(session, subject_id)
    if tpl is not None and consent_id is not None and tpl.consent_id != consent_id:
        tpl = None  # made under another consent that is still in force
    removed = repo.delete_template(session, subject_id) if tpl is not None else 0
    frames = repo.delete_evidence_of(session, subject_id)
    if removed or frames:
        audit(
            session,
            "biometric.template_destroyed",
            actor=actor,
            subject=f"person:{subject_id}",
            body={
                "reason": reason,
                "template": bool(removed),
                "evidence_frames": frames,
                "consent_id": str(consent_id) if consent_id else None,
            },
        )
    return bool(removed)


def on_biometric_withdrawal(
    session: Session, consent_id: uuid.UUID, subject_id: uuid.UUID, categories: list[str]
) -> None:
    """Consent hook: the withdrawal and the destruction commit together or not at all."""
    if CATEGORY in categories:
        destroy_template(
            session, subject_id, actor="system", reason="consent_withdrawn", consent_id=consent_id
        )


_hook_installed = False


def install_withdrawal_hook() -> None:
    """Register once per process (several apps in one process share the consent hooks)."""
    global _hook_installed
    if _hook_installed:
        return
    from consent import service as consent_service

    consent_service.on_withdrawal("biometric.", on_biometric_withdrawal)
    _hook_installed = True


# --- exam sessions ------------------------------------------------------------------------


def _outside_school(
    session: Session, person_ids: list[uuid.UUID], school_id: uuid.UUID
) -> list[uuid.UUID]:
    """The people among ``person_ids`` with no active status in the school: a proctor's view
    shows each taker's checks and timeline, so takers are the school's own participants."""
    from idp import service as idp

    members = {s.person_id for s in idp.school_statuses(session, school_id)}
    return [p for p in person_ids if p not in members]


def _is_proctor(session: Session, person_id: uuid.UUID, school_id: uuid.UUID) -> bool:
    from idp import service as idp

    return any(
        s.role == "proctor" and s.school_id == school_id
        for s in idp.active_statuses(session, person_id)
    )


def create_exam_session(
    session: Session,
    *,
    proctor_id: uuid.UUID,
    school_id: uuid.UUID,
    course: str,
    title: str,
    opens_at: datetime,
    closes_at: datetime,
    takers: list[uuid.UUID],
    keep_frames_days: int,
    now: datetime,
) -> ExamSession:
    if not _is_proctor(session, proctor_id, school_id):
        raise Forbidden(
            "only an active proctor of the school may create its exam sessions", type="not-proctor"
        )
    if closes_at <= opens_at or closes_at <= now:
        raise ValidationProblem(
            "the window must end after it opens, in the future", type="bad-window"
        )
    if closes_at - opens_at > timedelta(hours=24):
        raise ValidationProblem("an exam window is at most 24 hours", type="bad-window")
    unique = list(dict.fromkeys(takers))
    if not 1 <= len(unique) <= MAX_TAKERS:
        raise ValidationProblem(f"1 to {MAX_TAKERS} takers", type="bad-takers")
    if not 0 <= keep_frames_days <= MAX_KEEP_DAYS:
        raise ValidationProblem(
            f"frames may be kept 0 to {MAX_KEEP_DAYS} days", type="bad-retention"
        )
    for person_id in unique:
        _require_person(session, person_id)
    outside = _outside_school(session, unique, school_id)
    if outside:
        raise ValidationProblem(
            "takers must have a status in the exam's school: " + ", ".join(str(p) for p in outside),
            type="not-school-participants",
            takers=[str(p) for p in outside],
        )
    exam = ExamSession(
        school_id=school_id,
        proctor_id=proctor_id,
        course=course,
        title=title,
        opens_at=opens_at,
        closes_at=closes_at,
        keep_frames_days=keep_frames_days,
        created_at=now,
    )
    repo.add(session, exam)
    for person_id in unique:
        session.add(
            ExamTaker(session_id=exam.id, person_id=person_id, liveness_attempts=0, checks=0)
        )
    session.flush()
    audit(
        session,
        "exam.session.created",
        actor=f"person:{proctor_id}",
        body={"exam_session_id": str(exam.id), "school_id": str(school_id), "takers": len(unique)},
    )
    return exam


def get_exam(session: Session, exam_id: uuid.UUID) -> ExamSession:
    exam = repo.get_session(session, exam_id)
    if exam is None:
        raise NotFound("no such exam session")
    return exam


def exam_resource(session: Session, exam: ExamSession) -> tuple[str, dict[str, Any]]:
    """(policy domain, resource) of an exam: its school, proctors and takers."""
    from idp import service as idp

    proctors = {
        f"person:{s.person_id}" for s in idp.school_statuses(session, exam.school_id, "proctor")
    }
    takers = [f"person:{t.person_id}" for t in repo.takers_of(session, exam.id)]
    domain = f"school:{exam.school_id}"
    return domain, {"schools": [domain], "proctors": sorted(proctors), "takers": takers}


def proctored_exam(session: Session, exam_id: uuid.UUID, person_id: uuid.UUID) -> ExamSession:
    """The exam, if the caller is an active proctor of its school (else 404/403)."""
    exam = repo.get_session(session, exam_id)
    if exam is None:
        raise NotFound("no such exam session")
    if not _is_proctor(session, person_id, exam.school_id):
        raise Forbidden("not a proctor of this exam's school", type="not-proctor")
    return exam


def _taken_exam(
    session: Session, exam_id: uuid.UUID, person_id: uuid.UUID, now: datetime
) -> tuple[ExamSession, ExamTaker]:
    exam = repo.get_session(session, exam_id)
    if exam is None:
        raise NotFound("no such exam session")
    taker = repo.taker(session, exam_id, person_id)
    if taker is None:
        raise Forbidden("not a taker of this exam session", type="not-taker")
    if now < exam.opens_at:
        raise Conflict("the exam has not opened yet", type="exam-not-open")
    if now > exam.closes_at:
        raise Conflict("the exam is closed", type="exam-closed")
    return exam, taker


def _nonce_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def start(
    session: Session, *, exam_id: uuid.UUID, person_id: uuid.UUID, now: datetime
) -> dict[str, Any]:
    """Choose the taker's path; on the biometric path issue a fresh liveness challenge."""
    exam, taker = _taken_exam(session, exam_id, person_id, now)
    ref = biometric_consent(session, person_id, now)
    tpl = repo.template_of(session, person_id)
    if ref is None:
        path, reason = "manual", "no_biometric_consent"
    elif tpl is None or tpl.consent_id != ref.id:
        path, reason = "manual", "not_enrolled"
    else:
        path, reason = "biometric", None
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
            "frame_interval_seconds": FRAME_INTERVAL_SECONDS,
        }
    if taker.liveness_attempts >= MAX_LIVENESS_ATTEMPTS:
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
        "frame_interval_seconds": FRAME_INTERVAL_SECONDS,
    }


@dataclass(frozen=True)
class Frame:
    """A decoded upload with its two hashes (bytes: exact replay; pixels: re-encoded replay)."""

    data: bytes
    img: np.ndarray
    sha256: str
    pixels: str


def decode_frame(data: bytes, index: int | None = None) -> Frame:
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
    exam, taker = _taken_exam(session, exam_id, person_id, now)
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
    days = exam.keep_frames_days
    if days > 0:
        aad = f"exam-frame:{check.id}".encode()
        session.add(
            ExamEvidence(
                check_id=check.id,
                person_id=taker.person_id,
                frame_enc=crypto.encrypt(settings.kek_bytes, frame.data, aad),
                expires_at=now + timedelta(days=days),
            )
        )
    return check


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
    """Judge the frames against the open challenge; the attempt is recorded either way."""
    exam, taker, templates = _biometric_taker(session, settings, exam_id, person_id, now)
    _check_challenge(taker, nonce, now)
    if not liveness.MIN_FRAMES <= len(frames) <= liveness.MAX_FRAMES:
        raise ValidationProblem(
            f"send {liveness.MIN_FRAMES} to {liveness.MAX_FRAMES} frames", type="frame-count"
        )
    decoded = [decode_frame(data, i) for i, data in enumerate(frames)]
    duplicate = _has_duplicates(decoded)
    observations = [] if duplicate else [liveness.observe(f.img, templates) for f in decoded]
    locked = repo.taker_for_update(session, exam_id, person_id)
    _check_challenge(locked, nonce, now)  # not consumed by a concurrent submission meanwhile
    replayed = (
        duplicate
        or repo.seen_hashes(
            session, locked.id, [f.sha256 for f in decoded], [f.pixels for f in decoded]
        )
        > 0
    )
    actions = tuple(locked.challenge_actions or ())
    if replayed:
        verdict = liveness.LivenessResult(False, "replayed_frames", (), None)
    else:
        verdict = liveness.judge(actions, observations, settings.face_threshold)
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
    locked.liveness_attempts += 1
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
        },
    )
    return {
        "passed": verdict.passed,
        "reason": verdict.reason,
        "required": list(actions),
        "completed": list(verdict.completed),
        "median_distance": verdict.median_distance,
        "attempts_left": MAX_LIVENESS_ATTEMPTS - locked.liveness_attempts,
    }


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


def _result(faces: int, distance: float | None, settings: Settings) -> str:
    if faces == 0:
        return "no_face"
    if faces > 1:
        return "several_faces"
    return "match" if distance is not None and distance <= settings.face_threshold else "mismatch"


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
    if (
        repo.checks_since(session, taker.id, "frame", now - timedelta(minutes=1))
        >= FRAMES_PER_MINUTE
    ):
        raise Problem(
            f"at most {FRAMES_PER_MINUTE} frames a minute",
            status=429,
            type="too-many-frames",
            title="Too many requests",
            headers={"Retry-After": "10"},
        )
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
    flag = _update_flags(session, locked, check, previous[0] if previous else None)
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
        "flag": _flag_out(flag) if flag else None,
    }


def _update_flags(
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


def _flag_out(flag: ExamFlag) -> dict[str, Any]:
    return {
        "kind": flag.kind,
        "first_seq": flag.first_seq,
        "last_seq": flag.last_seq,
        "frames": flag.frames,
        "started_at": flag.started_at.isoformat(),
        "last_at": flag.last_at.isoformat(),
    }


def _summary(
    taker: ExamTaker, checks: list[ExamCheck], flags: list[ExamFlag], threshold: float
) -> dict[str, Any]:
    """Counts and a suggestion from several frames (never from one)."""
    frames = [c for c in checks if c.kind == "frame"]
    counts = {
        r: sum(1 for c in frames if c.result == r)
        for r in ("match", "mismatch", "no_face", "several_faces")
    }
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


def exam_view(session: Session, settings: Settings, exam: ExamSession) -> dict[str, Any]:
    """The proctor's view: takers with paths, liveness, timelines, flags and decisions."""
    takers = repo.takers_of(session, exam.id)
    ids = [t.id for t in takers]
    checks = repo.checks_of(session, ids)
    flags = repo.flags_of(session, ids)
    out = []
    for t in takers:
        mine = [c for c in checks if c.taker_id == t.id]
        my_flags = [f for f in flags if f.taker_id == t.id]
        out.append(
            {
                "person_id": str(t.person_id),
                "path": t.path,
                "path_reason": t.path_reason,
                "started_at": t.started_at.isoformat() if t.started_at else None,
                "liveness": {
                    "passed": t.liveness_passed_at is not None,
                    "passed_at": t.liveness_passed_at.isoformat() if t.liveness_passed_at else None,
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
                    for c in mine
                ],
                "flags": [_flag_out(f) for f in my_flags],
                "summary": _summary(t, mine, my_flags, settings.face_threshold),
                "decision": _decision_out(t),
            }
        )
    return {
        "id": str(exam.id),
        "school_id": str(exam.school_id),
        "proctor_id": str(exam.proctor_id),
        "course": exam.course,
        "title": exam.title,
        "opens_at": exam.opens_at.isoformat(),
        "closes_at": exam.closes_at.isoformat(),
        "keep_frames_days": exam.keep_frames_days,
        "threshold": settings.face_threshold,
        "takers": out,
    }


def _decision_out(t: ExamTaker) -> dict[str, Any] | None:
    if t.decision is None:
        return None
    return {
        "decision": t.decision,
        "basis": t.decision_basis,
        "decided_by": str(t.decided_by),
        "decided_at": t.decided_at.isoformat() if t.decided_at else None,
    }


def decide(
    session: Session,
    settings: Settings,
    *,
    exam_id: uuid.UUID,
    proctor_id: uuid.UUID,
    person_id: uuid.UUID,
    decision: str,
    note: str | None,
    identity_document: dict[str, Any] | None,
    now: datetime,
) -> dict[str, Any]:
    """Record the proctor's decision with its basis (the evidence summary at that moment)."""
    exam = proctored_exam(session, exam_id, proctor_id)
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


def attestation_for_result(
    session: Session, *, exam_id: uuid.UUID, person_id: uuid.UUID, now: datetime
) -> dict[str, Any]:
    """The identity-check record to attach to the exam result the school counts.

    Transferred only under the participant's consent for the exam result
    (``education.grades`` for ``attestation.online``); refused otherwise.
    """
    from consent import service as consent_service

    taker = repo.taker(session, exam_id, person_id)
    if taker is None:
        raise NotFound("not a taker of this exam session")
    if taker.decision is None:
        raise Conflict("the proctor has not decided yet", type="no-decision")
    ref = consent_service.has_active_consent(
        session, person_id, RESULT_CATEGORY, RESULT_PURPOSE, now=now
    )
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
        "decided_at": taker.decided_at.isoformat() if taker.decided_at else None,
        "consent_id": str(ref.id),
    }


def purge_expired_evidence(session: Session, now: datetime) -> int:
    """Destroy evidence frames past their retention date (also run on every frame)."""
    n = repo.delete_expired_evidence(session, now)
    if n:
        audit(
            session,
            "biometric.evidence_destroyed",
            actor="system",
            body={"frames": n, "reason": "retention_expired"},
        )
    return n
