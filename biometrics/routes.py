"""HTTP routes of the biometrics package: enrolment, exam sessions, liveness, frames, decisions.

Uploads are multipart (``photos``, ``frames``, ``frame``). Every route is a plain ``def``: image
decoding and the face models are CPU work and run in the threadpool, never on the event loop.
Routes check the policy and the upload sizes, then call one service function; the answers'
shapes are the models in ``biometrics.schemas``.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile

from biometrics import checks, enrolment, exams, liveness, participant, proctoring, retention
from biometrics.engine import DEFAULT_CONFIG
from biometrics.schemas import (
    AttestationOut,
    BiometricsOut,
    DecisionIn,
    DecisionOut,
    EnrolmentDeleted,
    EnrolmentOut,
    ExamSessionIn,
    ExamSessionOut,
    FrameCheckOut,
    LivenessOut,
    MyExamsOut,
    ProctorSessionsOut,
    StartOut,
    StudentsOut,
    TakerRemoved,
    TakersAdded,
    TakersIn,
)
from idp.guardianship import owner_resource
from policies.service import authorize
from propusk.db import utcnow
from propusk.deps import SessionDep, SettingsDep, require
from propusk.errors import Forbidden, Problem, ValidationProblem, problems
from propusk.security import Principal

router = APIRouter(prefix="/api/v1", tags=["biometrics"])

PHOTO_BYTES = DEFAULT_CONFIG.max_bytes
FRAME_BYTES = 2 * 1024 * 1024
SubjectQuery = Query(None, description="a child's id, when a representative looks at their data")
JPEG = {200: {"content": {"image/jpeg": {}}, "description": "a JPEG image"}}
FRAME = {
    200: {
        "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}},
        "description": "the frame as the taker's camera sent it",
    }
}


def _person(principal: Principal) -> uuid.UUID:
    if principal.person_id is None:
        raise Forbidden("this needs a participant, not a client", type="person-required")
    return principal.person_id


def _authorize_subject(
    session, principal: Principal, act: str, subject_id: uuid.UUID | None
) -> uuid.UUID:
    """Self or a child the caller represents, checked by idp and by the policy conditions.
    Enrolling or deleting a face is the subject's act (a child under 14 does neither alone);
    reading the status is not."""
    acts = {"create": "demand", "delete": "withdraw"}
    subject = enrolment.acting_for(session, _person(principal), subject_id, acts.get(act, "read"))
    authorize(principal, "biometric.enrolment", act, resource=owner_resource(session, subject))
    return subject


def _authorize_exam(session, principal: Principal, exam_id: uuid.UUID, obj: str, act: str) -> None:
    """The exam's school domain and its proctors/takers for the policy conditions."""
    domain, resource = exams.exam_resource(session, exams.get_exam(session, exam_id))
    authorize(principal, obj, act, domain=domain, resource=resource)


def _read(upload: UploadFile, limit: int, what: str) -> bytes:
    """Read one uploaded file, refusing more than ``limit`` bytes (413)."""
    if upload.size is not None and upload.size > limit:
        raise Problem(f"{what} is larger than {limit} bytes", status=413, type="image-too-large")
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise Problem(f"{what} is larger than {limit} bytes", status=413, type="image-too-large")
    return data


# --- enrolment ----------------------------------------------------------------------------


@router.post(
    "/biometrics/enrolments",
    status_code=201,
    response_model=EnrolmentOut,
    responses=problems(400, 404, 429),
)
def create_enrolment(
    session: SessionDep,
    settings: SettingsDep,
    photos: Annotated[list[UploadFile], File(description="1–3 face photos")],
    subject_id: Annotated[uuid.UUID | None, Form()] = None,
    principal: Principal = require("biometric.enrolment", "create", limit="rate_uploads"),
) -> dict:
    """Enrol yourself, or (as a legal representative) your child, from 1–3 photos.

    Needs the participant's active written biometric consent (152-FZ art. 11); the photos must
    pass the quality checks and show one person. Answers the enrolment status (never the
    template)."""
    actor = _person(principal)
    if not 1 <= len(photos) <= enrolment.MAX_PHOTOS:
        raise ValidationProblem(f"send 1 to {enrolment.MAX_PHOTOS} photos", type="photo-count")
    subject = _authorize_subject(session, principal, "create", subject_id)
    now = utcnow()
    enrolment.require_biometric_consent(session, subject, now)  # before any CPU work
    data = [_read(p, PHOTO_BYTES, f"photo {i}") for i, p in enumerate(photos)]
    reports = enrolment.analyse_photos(data)
    enrolment.enrol(session, settings, actor_id=actor, subject_id=subject, reports=reports, now=now)
    return enrolment.enrolment_status(session, subject, now)


@router.get("/biometrics/enrolments/{person_id}", response_model=EnrolmentOut)
def get_enrolment(
    person_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("biometric.enrolment", "read"),
) -> dict:
    """Enrolment status only: the template never leaves the service."""
    subject = _authorize_subject(session, principal, "read", person_id)
    return enrolment.enrolment_status(session, subject, utcnow())


@router.delete("/biometrics/enrolments/{person_id}", response_model=EnrolmentDeleted)
def delete_enrolment(
    person_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("biometric.enrolment", "delete"),
) -> dict:
    """Destroy your (or your child's) face template and any kept exam frames, on request."""
    actor = _person(principal)
    subject = _authorize_subject(session, principal, "delete", person_id)
    destroyed = retention.destroy_template(
        session, subject, actor=f"person:{actor}", reason="deleted_on_request"
    )
    return {"person_id": str(subject), "destroyed": destroyed}


# --- the participant's cabinet ------------------------------------------------------------


@router.get("/me/biometrics", response_model=BiometricsOut, responses=problems(404))
def my_biometrics(
    session: SessionDep,
    subject: uuid.UUID | None = SubjectQuery,
    principal: Principal = require("biometric.enrolment", "read"),
) -> dict:
    """Your (or your child's) written biometric consents, the enrolment status and what you may
    do now: sign a pending request (the signing page), enrol, delete the template.

    The consents are the subject's consent data too: the caller needs ``consent:read`` on the
    subject besides ``biometric.enrolment:read`` (a relying party: both scopes)."""
    subject_id = _authorize_subject(session, principal, "read", subject)
    authorize(principal, "consent", "read", resource=owner_resource(session, subject_id))
    return participant.biometrics_overview(
        session, actor_id=_person(principal), subject_id=subject_id, now=utcnow()
    )


@router.get("/me/exams", response_model=MyExamsOut, responses=problems(404))
def my_exams(
    session: SessionDep,
    subject: uuid.UUID | None = SubjectQuery,
    principal: Principal = require("exam.attempt", "read"),
) -> dict:
    """The exam sessions you (or your child) take, with each attempt's state; the link to the
    exam page only for your own exams while their window is open. First party only."""
    actor = _person(principal)
    subject_id = enrolment.acting_for(session, actor, subject, "read")
    authorize(principal, "exam.attempt", "read", resource=owner_resource(session, subject_id))
    return participant.exams_of(session, actor_id=actor, subject_id=subject_id, now=utcnow())


# --- exam sessions (proctor) --------------------------------------------------------------


@router.get("/exams/sessions", response_model=ProctorSessionsOut)
def my_exam_sessions(
    session: SessionDep,
    principal: Principal = require("exam.session", "read"),
) -> dict:
    """«Мои экзамены»: the schools where you are a proctor and the sessions you opened there
    (latest window first), with counts of takers, started, flagged and decided attempts."""
    return exams.sessions_of(session, _person(principal), utcnow())


@router.get("/schools/{school_id}/exam-students", response_model=StudentsOut)
def exam_students(
    school_id: uuid.UUID,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=200, description="words of the name")] = None,
    class_name: Annotated[str | None, Query(max_length=16, description="the class")] = None,
    principal: Principal = require("exam.session", "create", domain_param="school_id"),
) -> dict:
    """The school's students to pick exam takers from (as a proctor of the school): search by
    words of the name and by class; at most 200 at a time."""
    if not exams.is_proctor(session, _person(principal), school_id):
        raise Forbidden("not a proctor of this school", type="not-proctor")
    return exams.school_students(session, school_id, query=q, class_name=class_name)


@router.post(
    "/exams/sessions", status_code=201, response_model=ExamSessionOut, responses=problems(400)
)
def create_exam_session(
    body: ExamSessionIn,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = require("exam.session", "create"),
) -> dict:
    """Open an exam session of your school (as its proctor) for takers with a status in it.

    Evidence frames are kept ``keep_frames_days`` days (the server's default when omitted; 0:
    not kept). Answers the proctor's view of the new session."""
    authorize(principal, "exam.session", "create", domain=f"school:{body.school_id}")
    exam = exams.create_exam_session(
        session,
        proctor_id=_person(principal),
        school_id=body.school_id,
        course=body.course,
        title=body.title,
        opens_at=body.opens_at,
        closes_at=body.closes_at,
        takers=body.takers,
        keep_frames_days=(
            body.keep_frames_days
            if body.keep_frames_days is not None
            else settings.frame_retention_days
        ),
        now=utcnow(),
    )
    return proctoring.exam_view(session, settings, exam, utcnow())


@router.get("/exams/sessions/{exam_id}", response_model=ExamSessionOut)
def get_exam_session(
    exam_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = require("exam.session", "read"),
) -> dict:
    """The proctor's view: each taker's path, liveness, timeline of checks, flags, a
    suggestion drawn from several frames, and the decision."""
    _authorize_exam(session, principal, exam_id, "exam.session", "read")
    exam = exams.proctored_exam(session, exam_id, _person(principal))
    return proctoring.exam_view(session, settings, exam, utcnow())


@router.post(
    "/exams/sessions/{exam_id}/takers", response_model=TakersAdded, responses=problems(400)
)
def add_takers(
    exam_id: uuid.UUID,
    body: TakersIn,
    session: SessionDep,
    principal: Principal = require("exam.session", "write"),
) -> dict:
    """Add students of the exam's school to your session before it closes (those already in it
    stay as they are)."""
    _authorize_exam(session, principal, exam_id, "exam.session", "write")
    actor = _person(principal)
    exam = exams.proctored_exam(session, exam_id, actor)
    added = exams.add_takers(session, exam, body.takers, actor=actor, now=utcnow())
    return {"added": added}


@router.delete(
    "/exams/sessions/{exam_id}/takers/{person_id}",
    response_model=TakerRemoved,
    responses=problems(409),
)
def remove_taker(
    exam_id: uuid.UUID,
    person_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("exam.session", "write"),
) -> dict:
    """Take a student off your session before they started it (409 once they have)."""
    _authorize_exam(session, principal, exam_id, "exam.session", "write")
    actor = _person(principal)
    exam = exams.proctored_exam(session, exam_id, actor)
    exams.remove_taker(session, exam, person_id, actor=actor)
    return {"person_id": str(person_id), "removed": True}


@router.get(
    "/exams/sessions/{exam_id}/takers/{person_id}/photo",
    response_class=Response,
    responses=JPEG,
)
def taker_photo(
    exam_id: uuid.UUID,
    person_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = require("exam.session", "read"),
) -> Response:
    """The taker's enrolment photo, for the proctor of this session only (under the taker's
    active biometric consent; 404 when none is on file). Never cached, never logged."""
    _authorize_exam(session, principal, exam_id, "exam.session", "read")
    viewer = _person(principal)
    exam = exams.proctored_exam(session, exam_id, viewer)
    photo = proctoring.enrolment_photo(session, settings, exam, person_id, utcnow(), viewer=viewer)
    return Response(photo, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get(
    "/exams/sessions/{exam_id}/takers/{person_id}/frames/{seq}",
    response_class=Response,
    responses=FRAME,
)
def taker_frame(
    exam_id: uuid.UUID,
    person_id: uuid.UUID,
    seq: Annotated[int, Path(ge=1, le=1_000_000)],
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = require("exam.session", "read"),
) -> Response:
    """A checked frame of the taker, while the session keeps frames as evidence (404 when it
    was not kept or has expired), for the proctor of this session only. Never cached."""
    _authorize_exam(session, principal, exam_id, "exam.session", "read")
    exam = exams.proctored_exam(session, exam_id, _person(principal))
    frame = proctoring.kept_frame(session, settings, exam, person_id, seq, utcnow())
    media = proctoring.image_type(frame)
    return Response(frame, media_type=media, headers={"Cache-Control": "no-store"})


@router.post(
    "/exams/sessions/{exam_id}/takers/{person_id}/decision",
    response_model=DecisionOut,
    responses=problems(400),
)
def decide(
    exam_id: uuid.UUID,
    person_id: uuid.UUID,
    body: DecisionIn,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = require("exam.session", "decide"),
) -> dict:
    """Record the proctor's decision on a taker with its basis (the evidence at that moment).

    No default: the decision and its reason (``note``) are required. The document the taker
    showed is recorded by its type and the last 4 digits of its number. ``verified`` needs a
    completed check (liveness passed and a matching frame) or an identity document that matches
    the face; on the manual path the document check is required."""
    _authorize_exam(session, principal, exam_id, "exam.session", "decide")
    return proctoring.decide(
        session,
        settings,
        exam_id=exam_id,
        proctor_id=_person(principal),
        person_id=person_id,
        decision=body.decision,
        note=body.note,
        identity_document=body.identity_document.model_dump() if body.identity_document else None,
        now=utcnow(),
    )


@router.get(
    "/exams/sessions/{exam_id}/takers/{person_id}/attestation",
    response_model=AttestationOut,
    responses=problems(409),
)
def attestation(
    exam_id: uuid.UUID,
    person_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("exam.session", "read"),
) -> dict:
    """The identity-check record to attach to the exam result (needs the transfer consent)."""
    _authorize_exam(session, principal, exam_id, "exam.session", "read")
    exams.proctored_exam(session, exam_id, _person(principal))
    return proctoring.attestation_for_result(
        session, exam_id=exam_id, person_id=person_id, now=utcnow()
    )


# --- the taker ----------------------------------------------------------------------------


@router.post(
    "/exams/sessions/{exam_id}/start", response_model=StartOut, response_model_exclude_none=True
)
def start(
    exam_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = require("exam.attempt", "take"),
) -> dict:
    """Start (or resume) your exam: the biometric path with a fresh liveness challenge when you
    are enrolled under an active biometric consent, else the manual path (the proctor checks
    your identity document)."""
    _authorize_exam(session, principal, exam_id, "exam.attempt", "take")
    return checks.start(
        session,
        exam_id=exam_id,
        person_id=_person(principal),
        now=utcnow(),
        frame_interval=settings.exam_frame_interval_seconds,
    )


@router.post(
    "/exams/sessions/{exam_id}/liveness", response_model=LivenessOut, responses=problems(400, 409)
)
def submit_liveness(
    exam_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    nonce: Annotated[str, Form(min_length=8, max_length=200)],
    frames: Annotated[list[UploadFile], File(description="frames in capture order")],
    principal: Principal = require("exam.attempt", "take"),
) -> dict:
    """Send the frames captured while performing the challenge's actions, with its nonce.

    The nonce is used once; only a decision about the face uses up an attempt (a pass,
    another person, several faces, replayed frames, a flat picture)."""
    _authorize_exam(session, principal, exam_id, "exam.attempt", "take")
    if not liveness.MIN_FRAMES <= len(frames) <= liveness.MAX_FRAMES:
        raise ValidationProblem(
            f"send {liveness.MIN_FRAMES} to {liveness.MAX_FRAMES} frames", type="frame-count"
        )
    data = [_read(f, FRAME_BYTES, f"frame {i}") for i, f in enumerate(frames)]
    return checks.submit_liveness(
        session,
        settings,
        exam_id=exam_id,
        person_id=_person(principal),
        nonce=nonce,
        frames=data,
        now=utcnow(),
    )


@router.post(
    "/exams/sessions/{exam_id}/frames", response_model=FrameCheckOut, responses=problems(400, 409)
)
def submit_frame(
    exam_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    frame: Annotated[UploadFile, File(description="one webcam frame (JPEG/PNG/WebP)")],
    principal: Principal = require("exam.attempt", "take"),
) -> dict:
    """Send one periodic webcam frame (after liveness): match, mismatch, no face or several
    faces, with the distance; runs of non-matching frames become flags for the proctor."""
    _authorize_exam(session, principal, exam_id, "exam.attempt", "take")
    return checks.check_frame(
        session,
        settings,
        exam_id=exam_id,
        person_id=_person(principal),
        data=_read(frame, FRAME_BYTES, "frame"),
        now=utcnow(),
    )
