"""The hosted signing page: a consent request as a document, «Подписать» / «Отказаться».

``/sign/{consent_id}`` is where a relying party sends a person to sign or refuse a consent
request (like ESIA's permission screens): the operator's request id and, optionally, a
``return_uri`` registered for the operator's client (exact match) with its ``state``. The page
shows who asks and for whose data, the consent as the document to be signed, who else must sign
and who already did, what happens on refusal, and a form (CSRF token, the document's SHA-256,
and the required «Я прочитал(а) документ» box — checked by the server too: a signature without
it is answered 422 with the document shown again). A written-form consent asks for a fresh ESIA
login first (step-up) and explains when the ESIA account itself is not confirmed. The answer
goes through ``consent.signing`` — the same function the cabinet's API calls; a refusal is
confirmed on a second page (it cannot be undone). Then the person is sent back to
``return_uri`` with ``consent_id``, ``result`` and ``state``, or (post/redirect/get) to
``/sign/{id}/result`` with the PDF, the receipt and what happens next.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from authlib.common.urls import add_params_to_uri
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from consent import documents, queries, representation, signatures, signing
from consent.models import Consent
from consent.pages.common import (
    PENDING,
    PUBLIC,
    ROLE_RU,
    login_url,
    message,
    page,
    problem_page,
    signers,
    summary,
)
from idp import guardianship, identity
from idp.oidc.clients import return_uri_allowed
from idp.oidc.csrf import FIELD, token_of
from idp.oidc.principal import session_principal
from propusk.db import utcnow
from propusk.deps import SessionDep, SettingsDep, take_limit
from propusk.errors import Problem
from propusk.messages import signer_text
from propusk.security import Principal
from propusk.settings import Settings

router = APIRouter(include_in_schema=False)
READ_FIELD = "read"  # the «Я прочитал(а) документ» box
NOT_READ = (
    "Отметьте «Я прочитал(а) документ», чтобы подписать: подпись ставится под документом, "
    "который вы прочитали."
)
RECEIPT_STATES = ("given", "withdrawn", "suspended", "expired", "revoked")


def _return_target(session, consent, return_uri: str | None) -> str | bool | None:
    """The registered return URI (exact match for a client of the consent's operator);
    None if none given; False if it is not registered (never redirect there)."""
    if not return_uri:
        return None
    operator = queries.organization_or_none(session, consent.operator_id)
    if operator is None or len(return_uri) > 1000:
        return False
    if not return_uri_allowed(session, operator.id, return_uri):
        return False
    return return_uri


def _login_hurdle(prepared, principal, settings: Settings) -> str | None:
    """What stops a written-form signature in this login: ``unconfirmed`` (the ESIA account
    is not confirmed: logging in again does not help) or ``stale`` (log in again); None."""
    if prepared.consent.form != "written" or principal.auth is None:
        return None
    if not principal.auth.confirmed:
        return "unconfirmed"
    if utcnow() - principal.auth.auth_time > timedelta(seconds=settings.step_up_max_age):
        return "stale"
    return None


def _still_needed(session: Session, consent: Consent, age_group: str, mine: str) -> list[str]:
    """Who still has to sign, as people read it: «ваша (законный представитель)» for the
    viewer's own role (``mine``), else the role with the names on file."""
    signed = {s.get("role") for s in consent.signatures}
    out = []
    for role in sorted(signatures.required_roles(age_group) - signed):
        label = signer_text(role)
        if role == mine:
            out.append(f"ваша ({label})")
            continue
        if role == "subject":
            people = [identity.get_person(session, consent.subject_id)]
        else:
            people = guardianship.guardians_of(session, consent.subject_id)
        names = " или ".join(identity.full_name(p) for p in people if p is not None)
        out.append(f"{label} ({names})" if names else label)
    return out


def _my_pdf(session, consent, person_id) -> str | None:
    """The link to the PDF this person signed for this consent, if any."""
    mine = [d for d in queries.signed_documents(session, consent.id) if d.signer_id == person_id]
    if not mine:
        return None
    return f"/api/v1/consents/{consent.id}/documents/{mine[-1].id}.pdf"


def _document_page(
    request: Request,
    session: Session,
    settings: Settings,
    principal: Principal,
    consent_id: uuid.UUID,
    target: str | None,
    state: str,
    error: str | None = None,
) -> Response:
    """The request as the document this person would sign (``error``: the form's mistake)."""
    try:
        prepared = signing.prepare(session, principal, consent_id, utcnow())
    except Problem as exc:
        return problem_page(request, exc, consent_id)
    consent = prepared.consent
    signed_roles = {s.get("role") for s in consent.signatures}
    back = {k: v for k, v in (("return_uri", target), ("state", state)) if v}
    context: dict[str, Any] = {
        "title": prepared.document.heading,
        "doc": prepared.document,
        "consent": consent,
        **summary(session, consent),
        "pending": consent.state in PENDING,
        "already_signed": prepared.role in signed_roles,
        "role": prepared.role,
        "role_text": ROLE_RU.get(prepared.role, "подписант"),
        "age_group": prepared.age_group,
        "needed": _still_needed(session, consent, prepared.age_group, prepared.role),
        "signers": signers(session, consent),
        "hurdle": _login_hurdle(prepared, principal, settings),
        "step_up_url": login_url(
            request,
            fresh=True,
            path=f"/sign/{consent.id}" + (f"?{urlencode(back)}" if back else ""),
        ),
        "expires": documents.local_time(consent.request_expires_at),
        "my_pdf": _my_pdf(session, consent, principal.person_id),
        "receipt_url": f"/consents/{consent.id}/receipt"
        if consent.state in RECEIPT_STATES
        else None,
        "csrf": token_of(settings, principal),
        "return_uri": target or "",
        "return_host": urlsplit(target).netloc if target else None,
        "state": state or "",
        "error": error,
    }
    return page(request, "sign.html", context, 422 if error else 200)


@router.get("/sign/{consent_id}", openapi_extra=PUBLIC)
def sign_page(
    consent_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    return_uri: str | None = None,
    state: str | None = None,
) -> Response:
    """The consent as a document, with «Подписать» / «Отказаться» (see the module docstring)."""
    principal = session_principal(request, session, settings, None)
    if principal.kind != "person":
        return RedirectResponse(login_url(request), status_code=302)
    consent = _readable(session, consent_id, principal)  # a stranger learns nothing, not even
    target = _return_target(session, consent, return_uri) if consent else None  # that it exists
    if target is False:
        return message(
            request,
            "Неверная ссылка",
            "Адрес возврата не зарегистрирован для этого оператора. Подписание по такой ссылке "
            "невозможно.",
            400,
        )
    return _document_page(request, session, settings, principal, consent_id, target, state or "")


def _readable(session, consent_id: uuid.UUID, principal):
    """The consent if the caller is its subject or their representative, else None (the
    document page then answers the refusal that names nobody)."""
    try:
        return representation.consent_for_person(session, consent_id, principal.person_id)
    except Problem:
        return None


@router.post("/sign/{consent_id}", openapi_extra=PUBLIC)
async def sign_submit(
    consent_id: uuid.UUID, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    try:
        form = await request.form(max_files=0, max_fields=12)
    except Exception:  # malformed body or a file: the form has neither
        return message(request, "Ошибка", "Форму не удалось прочитать.", 400)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return await run_in_threadpool(_decide, consent_id, request, session, settings, fields)


def _decide(consent_id, request, session, settings, fields: dict[str, str]) -> Response:
    """The form's answer, through ``consent.signing`` (CSRF and origin checked first)."""
    try:
        principal = session_principal(request, session, settings, fields.get(FIELD))
        if principal.kind != "person":
            login = (login_url(request, path=f"/sign/{consent_id}"), "Войти снова")
            return message(request, "Сеанс истёк", "Войдите снова и повторите.", 401, login)
        take_limit(request, "rate_consent_decisions", principal.subject)  # as the API routes
        consent = queries.consent_or_none(session, consent_id)
        target = _return_target(session, consent, fields.get("return_uri")) if consent else None
        if target is False:
            return message(request, "Неверная ссылка", "Адрес возврата не зарегистрирован.", 400)
        decision = fields.get("decision")
        if decision == "refuse" and fields.get("confirm") != "1":
            return _confirm_refusal(request, session, principal, consent_id, fields)
        now = utcnow()
        if decision == "sign":
            if fields.get(READ_FIELD) != "1":  # the box is required in the page and here
                state = fields.get("state", "")[:500]
                return _document_page(
                    request, session, settings, principal, consent_id, target, state, NOT_READ
                )
            consent, _ = signing.sign(
                session, settings, principal, consent_id, fields.get("document_sha256"), now
            )
        elif decision == "refuse":
            consent = signing.refuse(session, principal, consent_id, now)
        else:
            return message(request, "Ошибка", "Не выбрано действие.", 400)
    except Problem as exc:
        return problem_page(request, exc, consent_id)
    if target:
        params = [("consent_id", str(consent.id)), ("result", consent.state)]
        if fields.get("state"):
            params.append(("state", fields["state"][:500]))
        return RedirectResponse(add_params_to_uri(target, params), status_code=303)
    return RedirectResponse(f"/sign/{consent.id}/result", status_code=303)


def _confirm_refusal(
    request: Request, session, principal: Principal, consent_id, fields: dict[str, str]
) -> Response:
    """A refusal ends the request for good: the person confirms it on a page of its own —
    only someone who may refuse it sees it (the page names the subject, operator, signers)."""
    consent = representation.consent_for_person(session, consent_id, principal.person_id, "refuse")
    carried = {k: fields[k] for k in ("csrf_token", "return_uri", "state") if fields.get(k)}
    back = {k: fields[k] for k in ("return_uri", "state") if fields.get(k)}
    context = {"title": "Отказаться от согласия?", **summary(session, consent)}
    context.update(
        consent=consent,
        carried=carried,
        signers=signers(session, consent),
        back_url=f"/sign/{consent.id}" + (f"?{urlencode(back)}" if back else ""),
    )
    return page(request, "sign_refuse.html", context)


@router.get("/sign/{consent_id}/result", openapi_extra=PUBLIC)
def sign_result(
    consent_id: uuid.UUID, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    """After the answer (a reload shows it again, nothing is re-sent)."""
    principal = session_principal(request, session, settings, None)
    if principal.kind != "person":
        return RedirectResponse(login_url(request), status_code=302)
    try:
        consent = representation.consent_for_person(session, consent_id, principal.person_id)
    except Problem as exc:
        return problem_page(request, exc, consent_id)
    signed_roles = {s.get("role") for s in consent.signatures}
    waiting = sorted(signatures.required_roles(consent.age_rule) - signed_roles)
    titles = {"refused": "Отказ принят", "partially_given": "Ваша подпись принята"}
    context = {
        "title": titles.get(consent.state, "Подписано"),
        "consent": consent,
        **summary(session, consent),
        "signers": signers(session, consent),
        "waiting": [signer_text(r) for r in waiting],
        "pdf_url": _my_pdf(session, consent, principal.person_id),
        "receipt_url": f"/consents/{consent.id}/receipt"
        if consent.state in RECEIPT_STATES
        else None,
    }
    return page(request, "signed.html", context)
