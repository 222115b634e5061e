"""A development-only upstream: a form that logs in anyone, for demos and tests.

It can never run in production: ``Settings.check_production`` refuses ``upstream != "esia"``,
and this class refuses to be built or used when ``settings.env == "production"``.
"""

from __future__ import annotations

import html
from datetime import date

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from idp.upstream import UpstreamError, UpstreamIdentity
from propusk.settings import Settings

DEMO_PEOPLE = (
    ("1000000001", "Иванова", "Мария", "Петровна", "2010-03-14", "F"),
    ("1000000002", "Иванов", "Пётр", "Сергеевич", "1982-07-01", "M"),
    ("1000000003", "Смирнова", "Анна", "Олеговна", "1975-11-23", "F"),
)

PAGE = """<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>Вход (режим разработки)</title></head>
<body>
<h1>Вход в Пропуск — режим разработки</h1>
<p>Это тестовый вход без Госуслуг. В рабочем режиме он отключён.</p>
<h2>Демо-пользователи</h2>
{people}
<h2>Другой пользователь</h2>
<form method="post" action="{action}">
  <input type="hidden" name="txn" value="{txn}">
  <label>OID ЕСИА <input name="oid" required></label>
  <label>Фамилия <input name="last_name" required></label>
  <label>Имя <input name="first_name" required></label>
  <label>Отчество <input name="middle_name"></label>
  <label>Дата рождения <input name="birth_date" type="date"></label>
  <label>Электронная почта <input name="email" type="email"></label>
  <button type="submit">Войти</button>
</form>
<form method="post" action="{action}">
  <input type="hidden" name="txn" value="{txn}">
  <input type="hidden" name="deny" value="1">
  <button type="submit">Отказаться от входа</button>
</form>
</body></html>
"""

PERSON_FORM = """<form method="post" action="{action}">
  <input type="hidden" name="txn" value="{txn}">
  <input type="hidden" name="oid" value="{oid}">
  <input type="hidden" name="last_name" value="{last}">
  <input type="hidden" name="first_name" value="{first}">
  <input type="hidden" name="middle_name" value="{middle}">
  <input type="hidden" name="birth_date" value="{birth}">
  <input type="hidden" name="gender" value="{gender}">
  <button type="submit">Войти как {last} {first} {middle}</button>
</form>"""


def _refuse_in_production(settings: Settings) -> None:
    if settings.env == "production":
        raise RuntimeError("the development upstream is refused in production")


class DevUpstream:
    """Implements ``idp.upstream.Upstream`` with a local HTML form."""

    name = "dev"

    def __init__(self, settings: Settings) -> None:
        _refuse_in_production(settings)
        self.settings = settings

    def start(self, request: Request, txn_id: str) -> Response:
        _refuse_in_production(self.settings)
        action = "/login/dev/callback"
        esc = html.escape
        people = "\n".join(
            PERSON_FORM.format(
                action=action,
                txn=esc(txn_id),
                oid=oid,
                last=esc(last),
                first=esc(first),
                middle=esc(middle),
                birth=birth,
                gender=gender,
            )
            for oid, last, first, middle, birth, gender in DEMO_PEOPLE
        )
        page = PAGE.format(action=action, txn=esc(txn_id), people=people)
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    def finish(self, request: Request) -> tuple[str, UpstreamIdentity]:
        """Reads the form the callback route stored on ``request.state.form``."""
        _refuse_in_production(self.settings)
        form = getattr(request.state, "form", None) or {}
        txn, oid = form.get("txn"), form.get("oid")
        if txn and form.get("deny") == "1":
            refused = UpstreamError("DEV-000", "Вход отменён пользователем")
            refused.txn_id = txn  # lets the provider answer access_denied to the RP
            raise refused
        last, first = form.get("last_name"), form.get("first_name")
        if not (txn and oid and last and first):
            raise UpstreamError("DEV-001", "Не заполнены обязательные поля: фамилия и имя")
        if any(not str(v).isprintable() or len(str(v)) > 200 for v in form.values()):
            raise UpstreamError(
                "DEV-003", "Поля должны быть не длиннее 200 символов, без служебных символов"
            )
        birth = None
        if form.get("birth_date"):
            try:
                birth = date.fromisoformat(form["birth_date"])
            except ValueError as exc:
                raise UpstreamError(
                    "DEV-002", "Дата рождения должна быть в формате ГГГГ-ММ-ДД"
                ) from exc
        identity = UpstreamIdentity(
            esia_oid=oid[:32],
            last_name=last,
            first_name=first,
            middle_name=form.get("middle_name") or None,
            birth_date=birth,
            gender=form.get("gender") or None,
            email=form.get("email") or None,
            trusted=False,
            auth_method="DEV",
        )
        return txn, identity
