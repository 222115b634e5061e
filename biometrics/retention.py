"""How long biometric data lives: destroying templates and evidence frames (never commits).

* A template is destroyed on the participant's request, or when the biometric consent it was
  made under is withdrawn: a hook registered with ``consent.lifecycle.on_withdrawal`` runs in the
  withdrawing transaction, so the withdrawal and the destruction commit together or not at all.
* Evidence frames (kept only when an exam session asks for them) expire after the session's
  retention period: ``purge_expired_evidence`` runs on every exam frame and daily from the CLI
  (``propusk biometrics purge-frames``).

Every destruction is audited (never with the data itself).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from audit.service import record as audit
from biometrics import repository as repo
from biometrics.enrolment import CATEGORY
from consent import lifecycle


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
    lifecycle.on_withdrawal("biometric.", on_biometric_withdrawal)
    _hook_installed = True


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
