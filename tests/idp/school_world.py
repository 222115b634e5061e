"""A lived-in school for the console's tests: its admin, a teacher who logged in, a teacher
known only from the roster, a student and her parent; and files as schools export them.

People are made by the real login code (``idp.login.on_login``); their roles come from their
statuses (``tests.idp.helpers.principal_from_headers``). A relying party holding a person's
token is the same person on the ``token`` channel with scopes (``x-test-relying-party``), as
``Harness.relying_party`` builds it for the consent tests. Fresh identifiers every time.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import uuid
from dataclasses import dataclass
from datetime import date

from fastapi.testclient import TestClient
from openpyxl import Workbook

from tests.idp import factories as f
from tests.idp.helpers import (
    as_person,
    login_person,
    new_school,
    principal_from_headers,
    school_admin,
)

RU_HEAD = ["Роль", "Фамилия", "Имя", "Отчество", "Дата рождения", "СНИЛС", "Класс"]


def resolve(request, session):
    """The test resolver of ``tests.idp.helpers``, plus a relying party's token."""
    principal = principal_from_headers(request, session)
    scopes = request.headers.get("x-test-relying-party")
    if scopes is not None and principal.person_id is not None:
        return dataclasses.replace(
            principal,
            client_id="e-diary",
            scopes=frozenset({"openid", *scopes.split()}),
            channel="token",
        )
    return principal


def console_client(app):
    """A TestClient whose callers are named by the headers above (a generator for a fixture)."""
    app.state.principal_resolver = resolve
    with TestClient(app, base_url="http://testserver") as c:
        yield c


def relying_party(person_id) -> dict:
    """Headers of a relying party ("e-diary") holding the person's token with broad scopes."""
    return {**as_person(person_id), "x-test-relying-party": "profile children consents.read"}


def csv_bytes(rows: list[list[str]], *, delimiter=";", encoding="cp1251", head=RU_HEAD) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(head)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list], head=RU_HEAD) -> bytes:
    """A sheet as Excel saves it: dates as date cells where given as ``date``."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Список"
    sheet.append(head)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@dataclass
class School:
    id: str
    org_oid: str
    admin: uuid.UUID
    teacher: uuid.UUID  # logged in; a teacher of the school by the roster
    teacher_name: tuple[str, str, str]
    waiting_teacher: tuple[str, str, str, date]  # only on the roster, never logged in
    student: uuid.UUID
    parent: uuid.UUID
    roster: bytes  # the file that was imported

    @property
    def base(self) -> str:
        return f"/api/v1/schools/{self.id}"


def lived_in_school(api, runtime) -> School:
    """A school with an imported roster (cp1251, «;»), and people logged in."""
    school = new_school(api)
    admin = school_admin(runtime, school)
    teacher_last, waiting_last, kid_last = f.name(), f.name(), f.name()
    kid = f.child(snils_value=f.snils(), last_name=kid_last)
    rows = [
        ["учитель", teacher_last, "Анна", "Петровна", "01.01.1980", "", ""],
        ["учитель", waiting_last, "Мария", "Петровна", "02.02.1982", "", ""],
        [
            "ученик",
            kid_last,
            "Маша",
            "Ивановна",
            kid.birth_date.strftime("%d.%m.%Y"),
            kid.snils,
            "7А",
        ],
    ]
    data = csv_bytes(rows)
    r = api.post(
        f"/api/v1/schools/{school['id']}/roster",
        content=data,
        headers={**as_person(admin), "content-type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    teacher = login_person(
        runtime,
        f.identity(
            last_name=teacher_last,
            first_name="Анна",
            middle_name="Петровна",
            birth_date=date(1980, 1, 1),
        ),
    )
    parent = login_person(runtime, f.identity(children=(kid,)))
    student = login_person(
        runtime,
        f.identity(
            esia_oid=kid.esia_oid,
            last_name=kid_last,
            first_name="Маша",
            middle_name="Ивановна",
            birth_date=kid.birth_date,
            snils_value=kid.snils,
        ),
    )
    return School(
        id=school["id"],
        org_oid=school["esia_org_oid"],
        admin=admin,
        teacher=teacher,
        teacher_name=(teacher_last, "Анна", "Петровна"),
        waiting_teacher=(waiting_last, "Мария", "Петровна", date(1982, 2, 2)),
        student=student,
        parent=parent,
        roster=data,
    )


def person_row(api, school: School, last_name: str) -> dict:
    r = api.get(f"{school.base}/people", params={"q": last_name}, headers=as_person(school.admin))
    assert r.status_code == 200, r.text
    (row,) = r.json()["people"]
    return row
