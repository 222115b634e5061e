"""Request bodies and response shapes of the biometrics API.

The services build plain dicts; the routes declare these models as their response models, so
``/openapi.json`` documents every answer and FastAPI checks each one against its shape. Field
order follows the answers (clients see the same JSON). Times are ISO 8601 strings as the
services write them (``datetime.isoformat``, ``+00:00``).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from biometrics.exams import MAX_KEEP_DAYS, MAX_TAKERS
from biometrics.proctoring import DOCUMENT_TYPES
from consent.models import STATES as CONSENT_STATES

DocumentType = Literal[DOCUMENT_TYPES]  # type: ignore[valid-type]
Decision = Literal["verified", "rejected", "manual_check"]
TakerPath = Literal["biometric", "manual"]
CheckResult = Literal["match", "mismatch", "no_face", "several_faces"]
# An ISO 8601 time with its offset, as ``datetime.isoformat`` writes it (``+00:00``).
IsoTime = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


# --- requests -----------------------------------------------------------------------------


class ExamSessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    school_id: uuid.UUID
    course: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=200)
    opens_at: AwareDatetime
    closes_at: AwareDatetime
    takers: list[uuid.UUID] = Field(min_length=1, max_length=MAX_TAKERS)
    keep_frames_days: int | None = Field(default=None, ge=0, le=MAX_KEEP_DAYS)


class TakersIn(BaseModel):
    """Participants of the exam's school to add to a session."""

    model_config = ConfigDict(extra="forbid")

    takers: list[uuid.UUID] = Field(min_length=1, max_length=MAX_TAKERS)


class IdentityDocumentIn(BaseModel):
    """The document the taker showed the proctor: which one, and the last 4 digits of its
    number (never the full number)."""

    model_config = ConfigDict(extra="forbid")

    type: DocumentType
    number_last4: str = Field(pattern=r"^[0-9]{4}$", description="exactly 4 digits")
    matches_photo: bool = True


# The reason a proctor gives for a decision: required, not blank.
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=1000)]


class DecisionIn(BaseModel):
    """The proctor's decision: no default, always with its reason."""

    model_config = ConfigDict(extra="forbid")

    decision: Decision
    note: Reason = Field(description="the reason of the decision (required)")
    identity_document: IdentityDocumentIn | None = None


# --- enrolment ----------------------------------------------------------------------------


class EnrolmentOut(BaseModel):
    """Enrolment status only: the template itself never leaves the service."""

    person_id: uuid.UUID
    enrolled: bool
    photos: int = Field(description="photos the template was made from (0: not enrolled)")
    enrolled_at: IsoTime | None
    engine: str | None = Field(description="face engine version of the template")
    consent_id: uuid.UUID | None = Field(description="the consent the template was made under")
    biometric_consent_active: bool
    evidence_frames: int = Field(description="exam frames kept as evidence for this person")


class EnrolmentDeleted(BaseModel):
    person_id: uuid.UUID
    destroyed: bool = Field(description="whether a template existed and was destroyed")


# --- the participant's cabinet ------------------------------------------------------------

ConsentState = Literal[CONSENT_STATES]  # type: ignore[valid-type]
SignerRole = Literal["subject", "guardian"]


class BiometricConsentOut(BaseModel):
    """One of the subject's written biometric consents (purpose ``biometric.identification``)."""

    id: uuid.UUID
    state: ConsentState
    active: bool = Field(description="the consent enrolment and exam checks rely on now")
    operator_name: str | None = Field(description="the operator that asked for it")
    form: str
    requested_at: IsoTime | None
    request_expires_at: IsoTime | None
    given_at: IsoTime | None
    valid_until: IsoTime | None
    ended_at: IsoTime | None
    signed_roles: list[SignerRole] = Field(description="who has signed (subject, guardian)")
    required_roles: list[SignerRole] = Field(description="who must sign at the subject's age")
    may_sign: bool = Field(description="a pending request the caller is the one to sign now")
    sign_url: str | None = Field(description="Propusk's signing page, when ``may_sign``")


class BiometricsOut(BaseModel):
    """The cabinet's biometrics section for the caller or a child they represent."""

    subject_id: uuid.UUID
    own: bool = Field(description="the caller looks at their own data")
    age_group: Literal["under14", "14to17", "adult"]
    acting_as: SignerRole
    consent_active: bool = Field(description="an active written biometric consent is on file")
    consents: list[BiometricConsentOut] = Field(description="newest first, at most 5")
    may_enrol: bool = Field(description="the caller may enrol the subject's face now")
    may_delete: bool = Field(description="the caller may destroy the subject's template now")
    enrolment: EnrolmentOut


class MyExamOut(BaseModel):
    """An exam session the subject is a taker of, and the state of their attempt."""

    id: uuid.UUID
    title: str
    course: str
    school_id: uuid.UUID
    school_name: str
    opens_at: IsoTime
    closes_at: IsoTime
    window: Literal["upcoming", "open", "closed"]
    state: Literal[
        "not_started", "started", "liveness_passed", "verified", "rejected", "manual_check"
    ] = Field(description="the attempt: not started, started, liveness passed, or the decision")
    path: TakerPath | None
    started_at: IsoTime | None
    decided_at: IsoTime | None
    take_url: str | None = Field(
        description="the exam page, while the window is open (the taker themselves only)"
    )


class MyExamsOut(BaseModel):
    subject_id: uuid.UUID
    own: bool = Field(description="the caller's own exams (a representative only reads)")
    exams: list[MyExamOut]


# --- the taker ----------------------------------------------------------------------------


class ChallengeOut(BaseModel):
    """A liveness challenge: perform ``actions`` in order, send the frames with the nonce."""

    nonce: str
    actions: list[Literal["blink", "turn_left", "turn_right"]]
    deadline: IsoTime
    min_frames: int
    max_frames: int


class StartOut(BaseModel):
    """The taker's path. Manual: ``reason`` and ``detail``; biometric: ``liveness_passed``,
    and while it has not passed a ``challenge`` with ``attempts_left``. Absent keys are
    omitted from the answer."""

    path: TakerPath
    reason: Literal["no_biometric_consent", "not_enrolled"] | None = None
    detail: str | None = None
    liveness_passed: bool | None = None
    challenge: ChallengeOut | None = None
    attempts_left: int | None = None
    frame_interval_seconds: int | None = None


class LivenessOut(BaseModel):
    passed: bool
    reason: str | None = Field(description="why the attempt failed (null when it passed)")
    required: list[str]
    completed: list[str]
    median_distance: float | None
    attempts_left: int


class FlagOut(BaseModel):
    """A run of consecutive non-matching frames of one kind."""

    kind: Literal["mismatch", "no_face", "several_faces"]
    first_seq: int
    last_seq: int
    frames: int
    started_at: IsoTime
    last_at: IsoTime


class FrameCheckOut(BaseModel):
    seq: int
    result: CheckResult
    distance: float | None = Field(description="the closest face's distance to the template")
    faces: int
    flag: FlagOut | None = Field(description="the flag this frame started or extended")


# --- the proctor --------------------------------------------------------------------------


class LivenessState(BaseModel):
    passed: bool
    passed_at: IsoTime | None
    attempts: int
    last_reason: str | None


class TimelineEntry(BaseModel):
    seq: int
    at: IsoTime
    kind: Literal["liveness", "frame"]
    result: CheckResult
    faces: int
    distance: float | None


class SummaryOut(BaseModel):
    """Counts of the periodic frames and a suggestion drawn from several of them."""

    frames: int
    match: int
    mismatch: int
    no_face: int
    several_faces: int
    recent_median_distance: float | None
    suggestion: Literal["manual_check", "consistent_match", "review"]


class IdentityDocumentOut(BaseModel):
    type: str
    number_last4: str | None
    matches_photo: bool


class DecisionBasis(BaseModel):
    """The evidence at the moment of the decision."""

    path: TakerPath
    path_reason: str | None
    note: str | None
    identity_document: IdentityDocumentOut | None
    liveness_passed: bool
    summary: SummaryOut
    flags: list[str]
    threshold: float


class DecisionOut(BaseModel):
    decision: Decision
    basis: DecisionBasis
    decided_by: uuid.UUID
    decided_at: IsoTime | None


class LatestFrame(BaseModel):
    """The taker's newest check; ``kept``: its frame can be shown (the session keeps frames)."""

    seq: int
    at: IsoTime
    kind: Literal["liveness", "frame"]
    result: CheckResult
    distance: float | None
    kept: bool


class TakerView(BaseModel):
    person_id: uuid.UUID
    name: str
    class_name: str | None
    has_photo: bool = Field(description="an enrolment photo is on file (…/photo)")
    attention: int = Field(
        description="0 flagged, 1 to review, 2 steady or not started, 3 decided (the order)"
    )
    latest: LatestFrame | None
    path: TakerPath | None
    path_reason: str | None
    started_at: IsoTime | None
    liveness: LivenessState
    timeline: list[TimelineEntry]
    flags: list[FlagOut]
    summary: SummaryOut
    decision: DecisionOut | None


Window = Literal["upcoming", "open", "closed"]


class ExamSessionOut(BaseModel):
    """The proctor's view of an exam session (takers needing attention first)."""

    id: uuid.UUID
    school_id: uuid.UUID
    school_name: str
    window: Window
    proctor_id: uuid.UUID
    course: str
    title: str
    opens_at: IsoTime
    closes_at: IsoTime
    keep_frames_days: int
    threshold: float = Field(description="the face distance up to which a frame matches")
    takers: list[TakerView]


class SchoolRef(BaseModel):
    id: uuid.UUID
    name: str


class ProctorSessionOut(BaseModel):
    id: uuid.UUID
    school_id: uuid.UUID
    school_name: str
    course: str
    title: str
    opens_at: IsoTime
    closes_at: IsoTime
    window: Window
    takers: int
    started: int
    flagged: int = Field(description="undecided takers with a flag")
    decided: int


class ProctorSessionsOut(BaseModel):
    """The schools where the caller is a proctor and the sessions they opened there."""

    schools: list[SchoolRef]
    sessions: list[ProctorSessionOut]


class StudentOut(BaseModel):
    person_id: uuid.UUID
    name: str
    class_name: str | None


class StudentsOut(BaseModel):
    """The school's students matching the search (at most 200; ``more``: narrow it)."""

    school_id: uuid.UUID
    classes: list[str]
    students: list[StudentOut]
    more: bool


class TakersAdded(BaseModel):
    added: int


class TakerRemoved(BaseModel):
    person_id: uuid.UUID
    removed: bool


class AttestationOut(BaseModel):
    """The identity-check record attached to the exam result the school counts."""

    exam_session_id: uuid.UUID
    person_id: uuid.UUID
    identity_check: Decision
    path: str | None
    liveness_passed: bool | None
    decided_at: IsoTime | None
    consent_id: uuid.UUID = Field(description="the participant's consent to the transfer")
