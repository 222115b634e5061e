"""The receipt of a consent as a page a person can read and print: ``/consents/{id}/receipt``.

The same receipt the API gives (``GET /api/v1/consents/{id}/receipt``, ``consent.queries.receipt``:
a JWS signed with the service key) with what it says in Russian: what was granted or
withdrawn, by whom and when (Moscow time), the operator, the purpose and data by their titles,
the consent's state now, whether the receipt's signature verifies (``consent.verification``),
the JWS itself to copy or save as a file, the signed PDFs, and how anyone can check it at
``/verify``. Only the person or their representative, in Propusk's own pages (the login
cookie): the policy and subject checks of the API route (``consent_for``), and a relying
party holding the person's token is refused here (the page shows signers and their documents).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from consent import documents, queries, verification
from consent.models import Consent
from consent.pages.common import (
    PUBLIC,
    login_url,
    message,
    page,
    problem_page,
    signers,
    summary,
)
from consent.routes.caller import consent_for
from idp import identity
from propusk.deps import PrincipalDep, SessionDep, SettingsDep
from propusk.errors import Problem
from propusk.messages import signer_text
from propusk.settings import Settings

router = APIRouter(include_in_schema=False)
EVENTS = {"given": "Согласие дано", "withdrawn": "Согласие отозвано"}
ONLY_HERE = (
    "Квитанцию можно открыть только в личном кабинете Пропуска: войдите через Госуслуги как "
    "участник или его законный представитель."
)


@router.get("/consents/{consent_id}/receipt", openapi_extra=PUBLIC)
def receipt_page(
    consent_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    event: str | None = None,
) -> Response:
    """The receipt of the latest grant or withdrawal (``?event=given|withdrawn`` picks)."""
    if principal.kind == "anonymous":
        return RedirectResponse(login_url(request), status_code=302)
    if principal.kind != "person" or not principal.first_party:
        return message(request, "Доступ закрыт", ONLY_HERE, 403)
    if event not in (None, *EVENTS):
        return message(request, "Неверная ссылка", "Такой квитанции не бывает.", 400)
    try:
        consent = consent_for(session, principal, consent_id, "read")
        signed = queries.receipt(session, settings, consent, event)
    except Problem as exc:
        return problem_page(request, exc, consent_id)
    context = _context(session, settings, consent, signed)
    return page(request, "receipt.html", context)


def _context(
    session: Session, settings: Settings, consent: Consent, signed: queries.Receipt
) -> dict[str, Any]:
    checked = verification.check(session, settings, receipt=signed.token)
    kinds = {e.type for e in queries.consent_events(session, consent.id)}
    other = "given" if signed.event_type == "withdrawn" else "withdrawn"
    return {
        "title": "Квитанция: " + EVENTS[signed.event_type].lower(),
        "consent": consent,
        **summary(session, consent),
        "event": signed.event_type,
        "event_text": EVENTS[signed.event_type],
        "event_at": documents.local_time(signed.at),
        "actor": _actor(session, signed),
        "signers": signers(session, consent),
        "checked": checked,
        "token": signed.token,
        "filename": f"consent-{consent.id}-{signed.event_type}.jws",
        "pdfs": _pdfs(session, consent),
        "other_url": (f"/consents/{consent.id}/receipt?event={other}" if other in kinds else None),
        "other_text": EVENTS[other].lower(),
        "verify_url": settings.issuer.rstrip("/") + "/verify",
    }


def _actor(session: Session, signed: queries.Receipt) -> str:
    """Who acted, by name and role («Смирнов Дмитрий — законный представитель»)."""
    role = signer_text(signed.actor_role) if signed.actor_role else ""
    name = ""
    if signed.actor and signed.actor.startswith("person:"):
        try:
            person = identity.get_person(session, uuid.UUID(signed.actor.removeprefix("person:")))
        except ValueError:
            person = None
        name = identity.full_name(person) if person is not None else ""
    return " — ".join(p for p in (name, role) if p) or "—"


def _pdfs(session: Session, consent: Consent) -> list[dict[str, str]]:
    """The consent's signed documents: a link and who signed each, when."""
    out = []
    for row in queries.signed_documents(session, consent.id):
        person = identity.get_person(session, row.signer_id)
        name = identity.full_name(person) if person is not None else ""
        role = signer_text(row.role)
        out.append(
            {
                "href": f"/api/v1/consents/{consent.id}/documents/{row.id}.pdf",
                "label": f"{name} — {role}, {documents.local_time(row.created_at)}",
            }
        )
    return out
