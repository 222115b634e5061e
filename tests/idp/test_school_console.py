"""The school admin's console over the API: the profile, roster files as schools export them
(CSV «;»/«,» in cp1251/UTF-8, XLSX), the preview bound to its file, the people list and its
export, and teachers appointed proctors before their first login."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from idp import roster
from idp.roster_files import read_table
from propusk.db import session_scope
from tests.idp import factories as f
from tests.idp.helpers import as_person, login_person, school_admin
from tests.idp.school_world import (
    RU_HEAD,
    console_client,
    csv_bytes,
    lived_in_school,
    person_row,
    xlsx_bytes,
)


@pytest.fixture
def api(app):
    yield from console_client(app)


@pytest.fixture
def school(api, runtime):
    return lived_in_school(api, runtime)


def _post(api, url, data: bytes, person, ctype="text/csv", **params):
    return api.post(
        url, content=data, params=params, headers={**as_person(person), "content-type": ctype}
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- reading files ----------------------------------------------------------------------------
def test_files_in_every_encoding_and_delimiter_read_the_same():
    rows = [["ученик", "Ёлкина", "Вера", "", "01.09.2012", "", "5Б"]]
    tables = {
        "cp1251 ;": csv_bytes(rows),
        "utf-8 ,": csv_bytes(rows, delimiter=",", encoding="utf-8"),
        "utf-8-sig ;": b"\xef\xbb\xbf" + csv_bytes(rows, encoding="utf-8"),
        "tab": csv_bytes(rows, delimiter="\t", encoding="utf-8"),
        "xlsx": xlsx_bytes([["ученик", "Ёлкина", "Вера", None, date(2012, 9, 1), None, "5Б"]]),
    }
    formats = {}
    for name, data in tables.items():
        table = read_table(data)
        formats[name] = (table.kind, table.encoding, table.delimiter)
        (row,) = roster.parse_table(table)
        assert (row.last_name, row.birth_date, row.class_name) == ("Ёлкина", date(2012, 9, 1), "5Б")
    assert formats == {
        "cp1251 ;": ("csv", "cp1251", ";"),
        "utf-8 ,": ("csv", "utf-8", ","),
        "utf-8-sig ;": ("csv", "utf-8-sig", ";"),
        "tab": ("csv", "utf-8", "\t"),
        "xlsx": ("xlsx", None, None),
    }


def test_errors_name_the_line_the_column_and_the_value():
    rows = [
        ["ученик", "Иванова", "Мария", "", "31.02.2010", "", "5А"],
        ["директор", "Петров", "Пётр", "", "01.01.2010", "", ""],
        ["ученик", "Сидорова", "", "", "1 мая", "123", "5А"],
    ]
    for data in (csv_bytes(rows), xlsx_bytes(rows)):
        with pytest.raises(Exception) as exc:
            roster.parse_roster(data)
        errors = [(e["line"], e["field"], e["message"]) for e in exc.value.extra["errors"]]
        assert errors == [
            (2, "birth_date", "дата рождения «31.02.2010» — такой даты нет"),
            (3, "role", "роль «директор» неизвестна: укажите «ученик» или «учитель»"),
            (4, "first_name", "имя: обязательное поле не заполнено"),
            (4, "birth_date", "дата рождения «1 мая»: нужна дата в виде ДД.ММ.ГГГГ или ГГГГ-ММ-ДД"),
            (
                4,
                "snils",
                "СНИЛС «123» указан с ошибкой: нужно 11 цифр, и контрольное число должно сходиться",
            ),
        ], errors


def test_a_damaged_or_foreign_file_is_a_russian_error_not_a_500(api, school):
    for data, ctype in (
        (b"PK\x03\x04not a zip", XLSX),
        (b"\x98\x98\x98", "text/csv"),  # not UTF-8, not cp1251 either
        (b"", "text/csv"),
        (xlsx_bytes([], head=["Рост", "Вес"]), XLSX),
    ):
        r = _post(api, f"{school.base}/roster/preview", data, school.admin, ctype)
        assert r.status_code == 200, (data[:10], r.text)  # the check worked: it found these
        assert not r.json()["valid"] and r.json()["token"] is None
        assert all(e["message"] for e in r.json()["errors"])
        r = _post(api, f"{school.base}/roster", data, school.admin, ctype)
        assert r.status_code == 422 and r.json()["type"].endswith("/roster-invalid")


# --- preview and apply ------------------------------------------------------------------------
def test_preview_writes_nothing_and_apply_takes_only_the_previewed_file(api, school, runtime):
    last, first, middle, born = school.waiting_teacher
    newcomer = f.name()
    rows = [
        ["учитель", last, first, middle, born.strftime("%d.%m.%Y"), "", "8В"],
        ["ученик", newcomer, "Олег", "", "03.03.2013", "", "6А"],
    ]
    data = xlsx_bytes(rows)
    before = api.get(f"{school.base}/roster", headers=as_person(school.admin)).json()
    r = _post(api, f"{school.base}/roster/preview", data, school.admin, XLSX)
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["format"] == {"kind": "xlsx", "encoding": None, "delimiter": None}
    assert [(x["line"], x["name"], x["class"]) for x in p["added"]] == [
        (3, f"{newcomer} Олег", "6А")
    ]
    assert [(x["changes"], x["previous_class"], x["class"]) for x in p["updated"]] == [
        (["class"], None, "8В")
    ]
    assert sorted(x["role"] for x in p["ended"]) == ["student", "teacher"]
    assert api.get(f"{school.base}/roster", headers=as_person(school.admin)).json() == before

    # another file with the token, the same file without it, or with a forged one: refused
    other = xlsx_bytes(rows[:1])
    for body, token in ((other, p["token"]), (data, "0" * 64)):
        r = _post(api, f"{school.base}/roster/apply", body, school.admin, XLSX, token=token)
        assert r.status_code == 409 and r.json()["type"].endswith("/roster-preview-mismatch")
    r = _post(api, f"{school.base}/roster/apply", data, school.admin, XLSX)
    assert r.status_code == 422  # no token at all
    # another admin of the same school: the preview was not theirs
    deputy = school_admin(runtime, {"esia_org_oid": school.org_oid})
    r = _post(api, f"{school.base}/roster/apply", data, deputy, XLSX, token=p["token"])
    assert r.status_code == 409
    assert api.get(f"{school.base}/roster", headers=as_person(school.admin)).json() == before

    r = _post(api, f"{school.base}/roster/apply", data, school.admin, XLSX, token=p["token"])
    assert r.status_code == 200, r.text
    assert (r.json()["added"], r.json()["updated"], r.json()["ended"]) == (1, 1, 2)
    # the roster changed: the same preview cannot be applied again
    r = _post(api, f"{school.base}/roster/apply", data, school.admin, XLSX, token=p["token"])
    assert r.status_code == 409


def test_a_preview_goes_stale_when_the_roster_changes_in_between(api, school):
    p = _post(api, f"{school.base}/roster/preview", school.roster, school.admin).json()
    assert p["unchanged"] == 3 and not p["added"] and not p["ended"]
    r = _post(api, f"{school.base}/roster", school.roster, school.admin)  # someone imports
    assert r.status_code == 200
    r = _post(api, f"{school.base}/roster/apply", school.roster, school.admin, token=p["token"])
    assert r.status_code == 409


# --- profile ----------------------------------------------------------------------------------
def test_profile_counts_people_and_the_admin_edits_the_short_name(api, school):
    r = api.get(f"{school.base}/profile", headers=as_person(school.admin))
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["counts"]["teacher"] == 2 and p["counts"]["student"] == 1
    assert p["counts"]["school_admin"] == 1 and p["counts"]["parent"] == 1
    assert p["not_logged_in"] == 1 and p["can_edit"] and p["can_manage"]
    r = api.patch(
        school.base, json={"short_name": "  Школа   № 5 "}, headers=as_person(school.admin)
    )
    assert r.status_code == 200 and r.json()["short_name"] == "Школа № 5"
    r = api.patch(school.base, json={"name": "Другая"}, headers=as_person(school.admin))
    assert r.status_code == 422  # the registered name is the registry's
    teacher_view = api.get(f"{school.base}/profile", headers=as_person(school.teacher)).json()
    assert not teacher_view["can_edit"] and not teacher_view["can_manage"]


# --- people and export ------------------------------------------------------------------------
def test_people_search_filters_and_export(api, school):
    admin = as_person(school.admin)
    r = api.get(f"{school.base}/people", headers=admin).json()
    assert r["classes"] == ["7А"] and r["total"] == r["found"] == len(r["people"]) == 5
    first = api.get(f"{school.base}/people", params={"limit": 2}, headers=admin).json()
    assert first["found"] == 5 and first["people"] == r["people"][:2]
    assert {p["name"].split()[0] for p in r["people"] if "teacher" in p["roles"]} == {
        school.teacher_name[0],
        school.waiting_teacher[0],
    }
    q = school.teacher_name[0][-6:].upper()  # any case, part of the name
    (found,) = api.get(f"{school.base}/people", params={"q": q}, headers=admin).json()["people"]
    assert found["person_id"] == str(school.teacher) and found["logged_in"]
    students = api.get(f"{school.base}/people", params={"class": "7А"}, headers=admin).json()
    assert [p["person_id"] for p in students["people"]] == [str(school.student)]
    waiting = api.get(f"{school.base}/people", params={"login": "no"}, headers=admin).json()
    assert [p["name"].split()[0] for p in waiting["people"]] == [school.waiting_teacher[0]]
    assert api.get(f"{school.base}/people", params={"login": "x"}, headers=admin).status_code == 422

    r = api.get(f"{school.base}/people.csv", params={"role": "teacher"}, headers=admin)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    lines = r.content.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "ФИО;Роли;Класс;Дата рождения;Вход через Госуслуги;Проктор"
    assert len([x for x in lines[1:] if x]) == 2 and all(";учитель;" in x for x in lines[1:] if x)


# --- proctors before the first login ----------------------------------------------------------
def test_a_teacher_appointed_from_the_roster_is_a_proctor_from_the_first_login(
    api, school, runtime
):
    last, first, middle, born = school.waiting_teacher
    row = person_row(api, school, last)
    assert row["person_id"] is None and row["can_appoint"]
    url = f"{school.base}/roster/{row['roster_entry_id']}/proctor"
    r = api.post(url, headers=as_person(school.admin))
    assert r.status_code == 201 and r.json()["state"] == "pending", r.text
    assert api.post(url, headers=as_person(school.admin)).status_code == 409
    row = person_row(api, school, last)
    assert row["proctor"] == "pending" and not row["can_appoint"]

    teacher = login_person(
        runtime, f.identity(last_name=last, first_name=first, middle_name=middle, birth_date=born)
    )
    row = person_row(api, school, last)
    assert row["person_id"] == str(teacher) and row["proctor"] == "active"
    statuses = api.get(f"{school.base}/statuses", headers=as_person(school.admin)).json()
    (proctor,) = [s for s in statuses if s["person_id"] == str(teacher) and s["role"] == "proctor"]
    assert proctor["source"] == "appointment"
    # the appointment was made once: a later import does not grant it again
    assert (
        api.delete(
            f"{school.base}/statuses/{proctor['id']}", headers=as_person(school.admin)
        ).status_code
        == 200
    )
    assert _post(api, f"{school.base}/roster", school.roster, school.admin).status_code == 200
    assert person_row(api, school, last)["proctor"] is None


def test_a_waiting_appointment_can_be_cancelled_and_a_student_is_never_appointed(api, school):
    last = school.waiting_teacher[0]
    row = person_row(api, school, last)
    url = f"{school.base}/roster/{row['roster_entry_id']}/proctor"
    assert api.delete(url, headers=as_person(school.admin)).status_code == 404
    assert api.post(url, headers=as_person(school.admin)).status_code == 201
    r = api.delete(url, headers=as_person(school.admin))
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert person_row(api, school, last)["proctor"] is None

    student_row = next(
        p
        for p in api.get(f"{school.base}/people", headers=as_person(school.admin)).json()["people"]
        if p["person_id"] == str(school.student)
    )
    assert not student_row["can_appoint"]
    r = api.post(
        f"{school.base}/roster/{student_row['roster_entry_id']}/proctor",
        headers=as_person(school.admin),
    )
    assert r.status_code == 422 and r.json()["type"].endswith("/not-school-staff")
    r = api.post(f"{school.base}/roster/{uuid.uuid4()}/proctor", headers=as_person(school.admin))
    assert r.status_code == 404


def test_a_logged_in_teacher_appointed_from_the_roster_is_a_proctor_at_once(api, school):
    row = person_row(api, school, school.teacher_name[0])
    r = api.post(
        f"{school.base}/roster/{row['roster_entry_id']}/proctor", headers=as_person(school.admin)
    )
    assert r.status_code == 201 and r.json()["state"] == "active"
    assert r.json()["status"]["person_id"] == str(school.teacher)


def test_the_one_step_import_takes_xlsx_and_cp1251_for_api_clients(api, school, runtime):
    rows = [["учитель", f.name(), "Ольга", "", date(1990, 5, 5), None, None]]
    r = _post(api, f"{school.base}/roster", xlsx_bytes(rows), school.admin, XLSX)
    assert r.status_code == 200 and r.json()["rows"] == 1, r.text
    with session_scope(runtime.sessionmaker) as s:
        (entry,) = roster.roster_of(s, uuid.UUID(school.id))
        assert entry.birth_date == date(1990, 5, 5)
    assert RU_HEAD[0] == "Роль"
