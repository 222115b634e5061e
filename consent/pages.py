"""Propusk-hosted consent pages (Russian): the signing page and the public verification page.

``/sign/{consent_id}`` is where a relying party sends a person to sign or refuse a consent
request (like ESIA's permission screens): the operator's request id and, optionally, a
``return_uri`` registered for the operator's client (exact match) with its ``state``. The page
shows who asks and for whose data, the consent as the document to be signed, who else must sign
and who already did, what happens on refusal, and a form (CSRF token, the document's SHA-256).
A written-form consent asks for a fresh ESIA login first (step-up) and explains when the ESIA
account itself is not confirmed. The answer goes through ``consent.signing`` — the same
function the cabinet's API calls; a refusal is confirmed on a second page (it cannot be undone).
Then the person is sent back to ``return_uri`` with ``consent_id``, ``result`` and ``state``, or
(post/redirect/get) to ``/sign/{id}/result`` with the PDF and what happens next.

``/verify`` (public, no login) checks a consent receipt (JWS, pasted or as its file) or a signed
PDF and says whether it is genuine and what state the consent is in now.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from authlib.common.urls import add_params_to_uri
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from consent import catalogue, documents, queries, representation, signatures, signing, verification
from idp import identity
from idp.oidc.clients import return_uri_allowed
from idp.oidc.csrf import FIELD, token_of
from idp.oidc.principal import session_principal
from propusk.db import utcnow
from propusk.deps import SessionDep, SettingsDep
from propusk.errors import Problem
from propusk.messages import problem_text
from propusk.settings import Settings

HERE = Path(__file__).parent
WEB_TEMPLATES = HERE.parent / "propusk" / "web" / "templates"  # the page layout, read as a file
templates = Jinja2Templates(directory=[str(HERE / "templates"), str(WEB_TEMPLATES)])
router = APIRouter(include_in_schema=False)
PUBLIC = {"x-public": True}
MAX_PDF = 5 * 1024 * 1024
STATE_RU = {
    "requested": "ожидает подписи",
    "partially_given": "подписано частично: ждёт второй подписи",
    "given": "действует",
    "refused": "отказано",
    "withdrawn": "отозвано",
    "revoked": "прекращено оператором",
    "suspended": "обработка приостановлена",
    "expired": "истекло",
}
ROLE_RU = {"subject": "участник (вы сами)", "guardian": "законный представитель"}
SIGNED_BY_RU = {"subject": "участник", "guardian": "законный представитель"}
PENDING = ("requested", "partially_given")


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """A page of its own (never cached, like every page: ``propusk.headers``)."""
    return templates.TemplateResponse(request, name, context, status_code=status)


def _message(
    request: Request, title: str, text: str, status: int, link: tuple[str, str] | None = None
) -> Response:
    href, label = link or ("/cabinet", "Перейти в личный кабинет")
    context = {"title": title, "text": text, "href": href, "label": label}
    return _page(request, "sign_message.html", context, status)


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


def _login_url(request: Request, fresh: bool = False, path: str | None = None) -> str:
    target = path or request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = {"next": target}
    if fresh:
        query["max_age"] = "0"
    return "/login?" + urlencode(query)


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


def _signers(session, consent) -> list[str]:
    """Who signed, by name, as what and when."""
    out = []
    for entry in consent.signatures:
        try:
            person = identity.get_person(session, uuid.UUID(str(entry.get("person_id"))))
        except ValueError:
            person = None
        name = identity.full_name(person) if person is not None else "—"
        role = SIGNED_BY_RU.get(entry.get("role"), entry.get("role"))
        out.append(f"{name} ({role}) — {documents.local_time(entry.get('at'))}")
    return out


def _summary(session, consent) -> dict[str, Any]:
    """Who asks, whose data, what for: the first lines a person reads."""
    operator = queries.organization_or_none(session, consent.operator_id)
    subject = identity.get_person(session, consent.subject_id)
    purpose = catalogue.purpose(session, consent.purpose_key)
    biometric = any(c.biometric for c in catalogue.categories(session, consent.categories).values())
    return {
        "operator": operator.name if operator else "оператор",
        "subject": identity.full_name(subject) if subject else "участник",
        "purpose": purpose.title if purpose else consent.purpose_key,
        "biometric": biometric,
        "state_text": STATE_RU.get(consent.state, consent.state),
    }


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
        return RedirectResponse(_login_url(request), status_code=302)
    try:
        prepared = signing.prepare(session, principal, consent_id, utcnow())
    except Problem as exc:
        return _problem_page(request, exc, consent_id)
    consent = prepared.consent
    target = _return_target(session, consent, return_uri)
    if target is False:
        return _message(
            request,
            "Неверная ссылка",
            "Адрес возврата не зарегистрирован для этого оператора. Подписание по такой ссылке "
            "невозможно.",
            400,
        )
    signed_roles = {s.get("role") for s in consent.signatures}
    context = {
        "title": prepared.document.heading,
        "doc": prepared.document,
        "consent": consent,
        **_summary(session, consent),
        "pending": consent.state in PENDING,
        "already_signed": prepared.role in signed_roles,
        "role": prepared.role,
        "role_text": ROLE_RU.get(prepared.role, prepared.role),
        "age_group": prepared.age_group,
        "needed": [
            ROLE_RU[r]
            for r in sorted(signatures.required_roles(prepared.age_group))
            if r not in signed_roles
        ],
        "signers": _signers(session, consent),
        "hurdle": _login_hurdle(prepared, principal, settings),
        "step_up_url": _login_url(request, fresh=True),
        "expires": documents.local_time(consent.request_expires_at),
        "valid_until": documents.local_time(consent.valid_until) if consent.valid_until else None,
        "my_pdf": _my_pdf(session, consent, principal.person_id),
        "csrf": token_of(settings, principal),
        "return_uri": target or "",
        "return_host": urlsplit(target).netloc if target else None,
        "state": state or "",
    }
    return _page(request, "sign.html", context)


def _my_pdf(session, consent, person_id) -> str | None:
    """The link to the PDF this person signed for this consent, if any."""
    mine = [d for d in queries.signed_documents(session, consent.id) if d.signer_id == person_id]
    if not mine:
        return None
    return f"/api/v1/consents/{consent.id}/documents/{mine[-1].id}.pdf"


@router.post("/sign/{consent_id}", openapi_extra=PUBLIC)
async def sign_submit(
    consent_id: uuid.UUID, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    try:
        form = await request.form(max_files=0, max_fields=12)
    except Exception:  # malformed body or a file: the form has neither
        return _message(request, "Ошибка", "Форму не удалось прочитать.", 400)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return await run_in_threadpool(_decide, consent_id, request, session, settings, fields)


def _decide(consent_id, request, session, settings, fields: dict[str, str]) -> Response:
    """The form's answer, through ``consent.signing`` (CSRF and origin checked first)."""
    try:
        principal = session_principal(request, session, settings, fields.get(FIELD))
        if principal.kind != "person":
            login = (_login_url(request, path=f"/sign/{consent_id}"), "Войти снова")
            return _message(request, "Сеанс истёк", "Войдите снова и повторите.", 401, login)
        consent = queries.consent_or_none(session, consent_id)
        target = _return_target(session, consent, fields.get("return_uri")) if consent else None
        if target is False:
            return _message(request, "Неверная ссылка", "Адрес возврата не зарегистрирован.", 400)
        decision = fields.get("decision")
        if decision == "refuse" and fields.get("confirm") != "1":
            return _confirm_refusal(request, session, consent_id, fields)
        now = utcnow()
        if decision == "sign":
            consent, _ = signing.sign(
                session, settings, principal, consent_id, fields.get("document_sha256"), now
            )
        elif decision == "refuse":
            consent = signing.refuse(session, principal, consent_id, now)
        else:
            return _message(request, "Ошибка", "Не выбрано действие.", 400)
    except Problem as exc:
        return _problem_page(request, exc, consent_id)
    if target:
        params = [("consent_id", str(consent.id)), ("result", consent.state)]
        if fields.get("state"):
            params.append(("state", fields["state"][:500]))
        return RedirectResponse(add_params_to_uri(target, params), status_code=303)
    return RedirectResponse(f"/sign/{consent.id}/result", status_code=303)


def _confirm_refusal(request: Request, session, consent_id, fields: dict[str, str]) -> Response:
    """A refusal ends the request for good: the person confirms it on a page of its own."""
    consent = queries.consent_or_none(session, consent_id)
    if consent is None:
        return _message(request, "Действие невозможно", "Согласие не найдено.", 404)
    carried = {k: fields[k] for k in ("csrf_token", "return_uri", "state") if fields.get(k)}
    back = {k: fields[k] for k in ("return_uri", "state") if fields.get(k)}
    context = {"title": "Отказаться от согласия?", **_summary(session, consent)}
    context.update(
        consent=consent,
        carried=carried,
        back_url=f"/sign/{consent.id}" + (f"?{urlencode(back)}" if back else ""),
    )
    return _page(request, "sign_refuse.html", context)


@router.get("/sign/{consent_id}/result", openapi_extra=PUBLIC)
def sign_result(
    consent_id: uuid.UUID, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    """After the answer (a reload shows it again, nothing is re-sent)."""
    principal = session_principal(request, session, settings, None)
    if principal.kind != "person":
        return RedirectResponse(_login_url(request), status_code=302)
    try:
        consent = representation.consent_for_person(session, consent_id, principal.person_id)
    except Problem as exc:
        return _problem_page(request, exc, consent_id)
    signed_roles = {s.get("role") for s in consent.signatures}
    waiting = sorted(signatures.required_roles(consent.age_rule) - signed_roles)
    context = {
        "title": "Отказ принят" if consent.state == "refused" else "Подписано",
        "consent": consent,
        **_summary(session, consent),
        "signers": _signers(session, consent),
        "waiting": [SIGNED_BY_RU[r] for r in waiting if r in SIGNED_BY_RU],
        "valid_until": documents.local_time(consent.valid_until) if consent.valid_until else None,
        "pdf_url": _my_pdf(session, consent, principal.person_id),
    }
    return _page(request, "signed.html", context)


def _problem_page(request: Request, exc: Problem, consent_id=None) -> Response:
    text = problem_text(exc.type, exc.status)
    link = None
    if exc.type in ("not-representative", "signer-not-allowed") and consent_id:
        # someone else logged in on this device: offer to change the account
        link = ("/oauth2/logout", "Выйти и войти под другой учётной записью")
    return _message(request, "Действие невозможно", text, exc.status, link)


# --- public verification ---------------------------------------------------------------------


@router.get("/verify", openapi_extra=PUBLIC, response_class=HTMLResponse)
def verify_page(request: Request) -> Response:
    """Check a receipt or a signed PDF: anyone holding one may (no login)."""
    return _page(request, "verify.html", _verify_context(None))


@router.post("/verify", openapi_extra=PUBLIC, response_class=HTMLResponse)
async def verify_submit(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    try:
        form = await request.form(max_files=1, max_fields=4)
    except Exception:  # malformed multipart: say so, never 500
        return _page(request, "verify.html", _verify_context(None), 400)
    receipt = form.get("receipt")
    upload = form.get("file")
    data = None
    if upload is not None and not isinstance(upload, str):
        data = await upload.read(MAX_PDF + 1)
    text = receipt.strip() if isinstance(receipt, str) and receipt.strip() else None
    if data and text:
        result = verification.Result(
            False, "none", "Проверьте что-то одно: вставьте квитанцию или выберите файл."
        )
    else:
        result = await run_in_threadpool(
            verification.check_upload, session, settings, text=text, data=data, max_pdf=MAX_PDF
        )
    status = 200 if result.valid else 422
    return _page(request, "verify.html", _verify_context(result), status)


def _verify_context(result) -> dict[str, Any]:
    return {"title": "Проверка согласия", "result": result, "states": STATE_RU}
