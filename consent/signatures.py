"""Who must sign a consent and what a signature records (checks 3 and 5).

A child under 14 is signed for by a legal representative, a 14–17 subject and a representative
both sign, an adult signs alone. A signature entry records how the signer authenticated (the
login of Propusk's own page) and the hashes of the document signed; a written-form consent
(special categories, biometrics, dissemination) needs a confirmed ESIA account and a recent
login (step-up).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from consent.models import Consent
from propusk.errors import Forbidden
from propusk.security import AuthContext

# A written-form signature (special categories, biometrics, dissemination) needs a login this
# recent (seconds); older logins go through ESIA again first (step-up). Settings override it.
WRITTEN_FORM_MAX_AUTH_AGE = 900


@dataclass(frozen=True)
class Signature:
    """What a signature records besides who and when: how the signer authenticated (the login
    session of Propusk's own page they signed in) and the document they signed."""

    auth: AuthContext
    document_sha256: str | None = None
    pdf_sha256: str | None = None
    document_id: uuid.UUID | None = None

    def entry(self) -> dict[str, Any]:
        return {
            "method": self.auth.method,
            "auth_time": self.auth.auth_time.isoformat(),
            "acr": self.auth.acr,
            "confirmed_account": self.auth.confirmed,
            "session": self.auth.session_ref,
            "document_sha256": self.document_sha256,
            "pdf_sha256": self.pdf_sha256,
            "document_id": str(self.document_id) if self.document_id else None,
        }


def required_roles(age: str) -> set[str]:
    """Who must sign (check 3): <14 a representative; 14–17 both; adults themselves."""
    return {"under14": {"guardian"}, "14to17": {"subject", "guardian"}}.get(age, {"subject"})


def check_signer(consent: Consent, auth: AuthContext, now: datetime, max_age: int) -> None:
    """Written form (art. 9 part 4, art. 10, 10.1, 11): the signer's ESIA account is confirmed
    and they authenticated at most ``max_age`` seconds ago (else: log in again, step-up)."""
    if consent.form != "written":
        return
    if not auth.confirmed:
        raise Forbidden(
            "a written-form consent needs a confirmed ESIA account",
            type="confirmed-account-required",
        )
    if now - auth.auth_time > timedelta(seconds=max_age):
        raise Forbidden(
            "log in through ESIA again to sign a written-form consent",
            type="step-up-required",
            max_age=max_age,
        )


def signed_as_written(entry: dict[str, Any]) -> bool:
    """A signature entry made the written-form way: after an ESIA login of a confirmed
    account, as a document (its hashes recorded). Entries of older ledgers (``esia_login``
    without a document) do not count."""
    return (
        str(entry.get("method", "")).startswith("esia:")
        and entry.get("confirmed_account") is True
        and bool(entry.get("document_sha256"))
        and bool(entry.get("pdf_sha256"))
    )
