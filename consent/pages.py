"""Propusk-hosted consent pages (Russian): the signing page and the public verification page.

``/sign/{consent_id}`` is where a relying party sends a person to sign or refuse a consent
request (like ESIA's permission screens): the operator's request id and, optionally, a
``return_uri`` registered for the operator's client (exact match) with its ``state``. The page
shows the consent as the document to be signed, who else must sign and who already did, what
happens on refusal, and a form (CSRF token, the document's SHA-256). A written-form consent asks
for a fresh ESIA login first (step-up). The answer goes through ``consent.signing`` — the same
function the cabinet's API calls — and the person is sent back to ``return_uri`` with
``consent_id``, ``result`` and ``state`` (or shown the result with the PDF and receipt links).

``/verify`` (public, no login) checks a consent receipt (JWS) or a signed PDF and says whether it
is genuine and what state the consent is in now.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from authlib.common.urls import add_params_to_uri
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from consent import documents, signing, verification
from consent import repository as repo
from propusk.db import utcnow
from propusk.deps import SessionDep, SettingsDep
from propusk.errors import Problem
from propusk.settings import Settings

HERE = Path(__file__).parent
WEB_TEMPLATES = HERE.parent / "propusk" / "web" / "templates"  # the page layout, read as a file
templates = Jinja2Templates(directory=[str(HERE / "templates"), str(WEB_TEMPLATES)])
router = APIRouter(include_in_schema=False)
PUBLIC = {"x-public": True}
NO_STORE = {"Cache-Control": "no-store"}
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


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return templates.TemplateResponse(
        request, name, context, status_code=status, headers=dict(NO_STORE)
    )


def _message(request: Request, title: str, text: str, status: int) -> Response:
    return _page(request, "sign_message.html", {"title": title, "text": text}, status)


def _return_target(session, consent, return_uri: str | None) -> str | bool | None:
    """The registered return URI (exact match for a client of the consent's operator);
    None if none given; False if it is not registered (never redirect there)."""
    from idp.oidc.service import return_uri_allowed

    if not return_uri:
        return None
    operator = repo.get_organization(session, consent.operator_id)
    if operator is None or len(return_uri) > 1000:
        return False
    if not return_uri_allowed(session, operator.id, operator.client_id, return_uri):
        return False
    return return_uri


def _principal(request: Request, session, settings: Settings, csrf_token: str | None = None):
    from idp.oidc.principal import session_principal

    return session_principal(request, session, settings, csrf_token)


def _login_url(request: Request, fresh: bool = False) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = {"next": target}
    if fresh:
        query["max_age"] = "0"
    return "/login?" + urlencode(query)


def _needs_step_up(prepared, principal, settings: Settings) -> str | None:
    """Why a written-form signature cannot be made in this login, in Russian, or None."""
    from datetime import timedelta

    if prepared.consent.form != "written" or principal.auth is None:
        return None
    if not principal.auth.confirmed:
        return (
            "Это согласие подписывается в письменной форме, а ваша учётная запись на Госуслугах "
            "не подтверждена. Подтвердите её на Госуслугах и войдите снова."
        )
    if utcnow() - principal.auth.auth_time > timedelta(seconds=settings.step_up_max_age):
        return (
            "Это согласие подписывается в письменной форме. Для подписи войдите через Госуслуги "
            "ещё раз: вход должен быть недавним."
        )
    return None


def _signers(consent) -> list[str]:
    return [
        f"{SIGNED_BY_RU.get(s.get('role'), s.get('role'))} — {documents.local_time(s.get('at'))}"
        for s in consent.signatures
    ]


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
    principal = _principal(request, session, settings)
    if principal.kind != "person":
        return RedirectResponse(_login_url(request), status_code=302)
    try:
        prepared = signing.prepare(session, principal, consent_id, utcnow())
    except Problem as exc:
        return _problem_page(request, exc)
    target = _return_target(session, prepared.consent, return_uri)
    if target is False:
        return _message(
            request,
            "Неверная ссылка",
            "Адрес возврата не зарегистрирован для этого оператора. Подписание по такой ссылке "
            "невозможно.",
            400,
        )
    from idp.oidc.principal import csrf_token_of

    pending = prepared.consent.state in ("requested", "partially_given")
    signed_roles = {s.get("role") for s in prepared.consent.signatures}
    context = {
        "title": prepared.document.heading,
        "doc": prepared.document,
        "consent": prepared.consent,
        "state_text": STATE_RU.get(prepared.consent.state, prepared.consent.state),
        "pending": pending,
        "already_signed": prepared.role in signed_roles,
        "role_text": ROLE_RU.get(prepared.role, prepared.role),
        "needed": [ROLE_RU[r] for r in sorted(_needed(prepared)) if r not in signed_roles],
        "signers": _signers(prepared.consent),
        "step_up": _needs_step_up(prepared, principal, settings),
        "step_up_url": _login_url(request, fresh=True),
        "expires": documents.local_time(prepared.consent.request_expires_at),
        "csrf": csrf_token_of(request, session, settings),
        "return_uri": target or "",
        "state": state or "",
    }
    return _page(request, "sign.html", context)


def _needed(prepared) -> set[str]:
    from consent.service import required_roles

    return required_roles(prepared.age_group)


@router.post("/sign/{consent_id}", openapi_extra=PUBLIC)
async def sign_submit(
    consent_id: uuid.UUID, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    try:
        form = await request.form(max_files=0, max_fields=10)
    except Exception:  # malformed body or a file: the form has neither
        return _message(request, "Ошибка", "Форму не удалось прочитать.", 400)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return await run_in_threadpool(_decide, consent_id, request, session, settings, fields)


def _decide(consent_id, request, session, settings, fields: dict[str, str]) -> Response:
    """The form's answer, through ``consent.signing`` (CSRF and origin checked first)."""
    from idp.oidc.csrf import FIELD

    try:
        principal = _principal(request, session, settings, fields.get(FIELD))
        if principal.kind != "person":
            return _message(request, "Сеанс истёк", "Войдите снова и повторите.", 401)
        consent = repo.get_consent(session, consent_id)
        target = _return_target(session, consent, fields.get("return_uri")) if consent else None
        if target is False:
            return _message(request, "Неверная ссылка", "Адрес возврата не зарегистрирован.", 400)
        now = utcnow()
        if fields.get("decision") == "sign":
            consent, row = signing.sign(
                session, settings, principal, consent_id, fields.get("document_sha256"), now
            )
        elif fields.get("decision") == "refuse":
            consent, row = signing.refuse(session, principal, consent_id, now), None
        else:
            return _message(request, "Ошибка", "Не выбрано действие.", 400)
    except Problem as exc:
        return _problem_page(request, exc)
    if target:
        params = [("consent_id", str(consent.id)), ("result", consent.state)]
        if fields.get("state"):
            params.append(("state", fields["state"][:500]))
        return RedirectResponse(add_params_to_uri(target, params), status_code=303)
    context = {
        "title": "Готово",
        "consent": consent,
        "state_text": STATE_RU.get(consent.state, consent.state),
        "document": row,
        "pdf_url": f"/api/v1/consents/{consent.id}/documents/{row.id}.pdf" if row else None,
    }
    return _page(request, "signed.html", context)


PROBLEM_RU = {
    "not-representative": "Вы не можете подписывать согласия за этого участника.",
    "representation-ended": "Участнику уже исполнилось 18 лет: согласия он подписывает сам.",
    "representative-required": (
        "Участнику нет 14 лет: согласие подписывает его законный представитель."
    ),
    "signer-not-allowed": "Вы не можете подписать это согласие: его подписывает другой человек.",
    "already-signed": "Вы уже подписали это согласие.",
    "invalid-state": "Согласие уже не ожидает ответа.",
    "request-expired": "Срок ответа на запрос истёк.",
    "document-changed": "Документ изменился, пока был открыт. Прочитайте его ещё раз.",
    "step-up-required": "Для подписи войдите через Госуслуги ещё раз.",
    "confirmed-account-required": "Нужна подтверждённая учётная запись Госуслуг.",
    "csrf-failed": "Страница устарела. Обновите её и повторите.",
    "foreign-origin": "Запрос пришёл не со страницы Пропуска и отклонён.",
    "not-found": "Согласие не найдено.",
    "unknown-subject": "Участник не найден.",
}


def _problem_page(request: Request, exc: Problem) -> Response:
    text = PROBLEM_RU.get(exc.type, "Действие невозможно.")
    return _message(request, "Действие невозможно", text, exc.status)


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
    upload = form.get("pdf")
    pdf = None
    if upload is not None and not isinstance(upload, str):
        pdf = await upload.read(MAX_PDF + 1)
    result = await run_in_threadpool(
        verification.check,
        session,
        settings,
        receipt=receipt.strip() if isinstance(receipt, str) and receipt.strip() else None,
        pdf=pdf or None,
        max_pdf=MAX_PDF,
    )
    status = 200 if result.valid else 422
    return _page(request, "verify.html", _verify_context(result), status)


def _verify_context(result) -> dict[str, Any]:
    return {"title": "Проверка согласия", "result": result, "states": STATE_RU}
