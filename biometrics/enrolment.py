"""Biometric enrolment: the consent it needs and the face template it stores (never commits).

Enrolment needs an active, written biometric consent (152-FZ art. 11) from the consent ledger,
signed by whoever the participant's age requires. The template is encrypted under the KEK with
the person and consent as associated data, never returned, never logged. Photos are decoded and
quality-checked (CPU only) before anything is written.

The exam modules read the consent check and the decrypted template from here; destroying a
template (on request, on withdrawal) lives in ``biometrics.retention``.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from PIL import Image
from sqlalchemy.orm import Session

from audit.service import record as audit
from biometrics import engine, quality
from biometrics import repository as repo
from biometrics.models import FaceTemplate
from consent import gate, representation, signatures
from idp import guardianship, identity
from propusk import crypto
from propusk.errors import Forbidden, NotFound, Problem, ValidationProblem
from propusk.settings import Settings

CATEGORY = "biometric.face_template"
PURPOSE = "biometric.identification"
MAX_PHOTOS = 3
PORTRAIT_SIDE = 320  # the reference portrait the proctor sees: a face crop, at most this size


# --- consent and participants -------------------------------------------------------------


def biometric_consent(session: Session, subject_id: uuid.UUID, now: datetime) -> Any | None:
    """The subject's active written biometric consent signed as their age requires, or None."""
    ref = gate.has_active_consent(session, subject_id, CATEGORY, PURPOSE, now=now)
    if ref is None or ref.form != "written":
        return None
    if not all(signatures.signed_as_written(s) for s in ref.signers):
        return None  # art. 11 written form: every signature a document signed after ESIA login
    person = identity.get_person(session, subject_id)
    needed = signatures.required_roles(
        guardianship.age_group(person, on=guardianship.local_date(now))
    )
    if not needed <= {s.get("role") for s in ref.signers}:
        return None
    return ref


def require_person(session: Session, person_id: uuid.UUID) -> Any:
    """The participant, or 404 ``unknown-person``."""
    person = identity.get_person(session, person_id)
    if person is None:
        raise NotFound("no such participant", type="unknown-person")
    return person


def acting_for(
    session: Session, actor_id: uuid.UUID, subject_id: uuid.UUID | None, act: str = "read"
) -> uuid.UUID:
    """Self, or a child the actor is the legal representative of (else 403)."""
    return representation.subjects_for(session, actor_id, subject_id, act)


def require_biometric_consent(session: Session, subject_id: uuid.UUID, now: datetime) -> Any:
    """The consent enrolment is made under, or 403 (checked before any photo is decoded)."""
    require_person(session, subject_id)
    ref = biometric_consent(session, subject_id, now)
    if ref is None:
        raise Forbidden(
            "enrolment needs the participant's active written biometric consent "
            "(152-FZ art. 11); the exam can still be verified manually by the proctor",
            type="biometric-consent-required",
        )
    return ref


# --- templates ----------------------------------------------------------------------------


def _template_aad(person_id: uuid.UUID, consent_id: uuid.UUID) -> bytes:
    return f"biometric-template:{person_id}:{consent_id}".encode()


def _photo_aad(person_id: uuid.UUID, consent_id: uuid.UUID) -> bytes:
    return f"biometric-photo:{person_id}:{consent_id}".encode()


def load_portrait(settings: Settings, tpl: FaceTemplate) -> bytes | None:
    """The decrypted reference portrait (JPEG), or None for a template enrolled without one.
    Only the proctor's photo route reads it; never logged, never in an audit body."""
    if tpl.photo_enc is None:
        return None
    return crypto.decrypt(
        settings.kek_bytes, tpl.photo_enc, _photo_aad(tpl.person_id, tpl.consent_id)
    )


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
    portrait: bytes | None = None  # JPEG crop around the face (accepted photos only)


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
        face = portrait(img, analysis.faces[0].box) if q.ok else None
        reports.append(PhotoReport(i, q.ok, q.reasons, enc, face))
    return reports


def portrait(img: np.ndarray, box: engine.Box) -> bytes:
    """A JPEG of the face with a margin (head and shoulders), at most ``PORTRAIT_SIDE`` px:
    re-encoded from the decoded pixels, so no metadata of the uploaded file survives."""
    h, w = img.shape[:2]
    margin_x, margin_y = box.width * 0.6, box.height * 0.7
    left, right = max(0, int(box.left - margin_x)), min(w, int(box.right + margin_x))
    top, bottom = max(0, int(box.top - margin_y)), min(h, int(box.bottom + margin_y * 0.8))
    crop = Image.fromarray(img[top:bottom, left:right])
    crop.thumbnail((PORTRAIT_SIDE, PORTRAIT_SIDE))
    out = io.BytesIO()
    crop.convert("RGB").save(out, format="JPEG", quality=85)
    return out.getvalue()


def _accepted_encodings(settings: Settings, reports: list[PhotoReport]) -> list[np.ndarray]:
    """The encodings of 1–``MAX_PHOTOS`` photos that passed the quality checks and show one
    person (else 422 naming what failed)."""
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
    return encodings


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
    encodings = _accepted_encodings(settings, reports)
    blob = crypto.encrypt(
        settings.kek_bytes, engine.pack_encodings(encodings), _template_aad(subject_id, ref.id)
    )
    face = next((r.portrait for r in reports if r.portrait is not None), None)
    photo = (
        crypto.encrypt(settings.kek_bytes, face, _photo_aad(subject_id, ref.id)) if face else None
    )
    repo.delete_template(session, subject_id)
    tpl = FaceTemplate(
        person_id=subject_id,
        consent_id=ref.id,
        template_enc=blob,
        photo_enc=photo,
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
    require_person(session, subject_id)
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
