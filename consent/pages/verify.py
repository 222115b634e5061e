"""``/verify`` (public, no login): is this consent receipt (JWS, pasted or as its file) or
signed PDF genuine, and what state is the consent in now (``consent.verification``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from consent import documents, verification
from consent.pages.common import PUBLIC, page
from propusk.db import utcnow
from propusk.deps import SessionDep, SettingsDep
from propusk.messages import state_help, state_text

router = APIRouter(include_in_schema=False)
MAX_PDF = 5 * 1024 * 1024


@router.get("/verify", openapi_extra=PUBLIC, response_class=HTMLResponse)
def verify_page(request: Request) -> Response:
    """Check a receipt or a signed PDF: anyone holding one may (no login)."""
    return page(request, "verify.html", _context(None))


@router.post("/verify", openapi_extra=PUBLIC, response_class=HTMLResponse)
async def verify_submit(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    try:
        form = await request.form(max_files=1, max_fields=4)
    except Exception:  # malformed multipart: say so, never 500
        result = verification.Result(False, "none", "Форму не удалось прочитать. Повторите.")
        return page(request, "verify.html", _context(result), 400)
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
    return page(request, "verify.html", _context(result), status)


def _context(result: verification.Result | None) -> dict[str, Any]:
    return {
        "title": "Проверка согласия",
        "result": result,
        "state_text": state_text(result.state) if result and result.state else "",
        "state_help": state_help(result.state) if result and result.state else "",
        "checked_at": documents.local_time(utcnow()),
    }
