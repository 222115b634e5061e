"""The school admin's console in a real browser, as the director of school No. 17 uses it.

She imports the files schools really export — a «;»-separated Windows-1251 CSV and an XLSX
sheet, each first with mistakes (the per-line errors in Russian), then fixed (the preview of
what changes, then the import with its count) — searches and filters the school's people,
downloads them for Excel, and appoints a teacher who has never logged in a proctor, confirming
a question that names her; the teacher's first login makes her one. Every state is judged by
``pagecheck.check_page`` (screenshots in ``build/screenshots/test_browser_school/``).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from idp.demo import FIXTURES
from idp.schools import find_school
from propusk.db import session_scope
from tests.e2e.chromium import needs_chromium
from tests.e2e.pagecheck import check_page, watch
from tests.e2e.people import DIRECTOR, log_in
from tests.idp.school_world import csv_bytes, xlsx_bytes

pytestmark = [needs_chromium, pytest.mark.xdist_group("browser_school")]

ROLE_RU = {"student": "ученик", "teacher": "учитель"}
WAITING_TEACHER = "1000400005"  # Ковалёва Марина Александровна: on the roster, never logged in
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _demo_rows() -> list[list[str]]:
    """The demo school's roster as a school's own export writes it (Russian, ДД.ММ.ГГГГ)."""
    text = (FIXTURES / "roster.csv").read_text(encoding="utf-8")
    rows = []
    for r in csv.DictReader(io.StringIO(text)):
        y, m, d = r["birth_date"].split("-")
        rows.append(
            [ROLE_RU[r["role"]], r["last_name"], r["first_name"], r["middle_name"],
             f"{d}.{m}.{y}", r["snils"], r["class"]]
        )  # fmt: skip
    return rows


@pytest.fixture(scope="module")
def console(demo_site, browser):
    url, rt = demo_site
    with session_scope(rt.sessionmaker) as s:
        school_id = find_school(s, "1000500001", None).id
    context = browser.new_context(locale="ru-RU", accept_downloads=True)
    page = context.new_page()
    watch(page)
    log_in(page, url, DIRECTOR, f"/school/{school_id}")
    page.wait_for_selector("#people table")
    yield url, page
    context.close()


def _choose(page, name: str, data: bytes, mime: str) -> None:
    page.set_input_files("#roster-file", {"name": name, "mimeType": mime, "buffer": data})
    page.click("#roster-check")


def _errors(page) -> list[str]:
    page.wait_for_selector("#roster-errors li")
    return page.locator("#roster-errors li").all_inner_texts()


def _preview_and_apply(page, name: str, shot: str) -> str:
    page.wait_for_selector("#roster-apply")
    summary = page.inner_text("#roster-result")
    check_page(page, shot)
    page.click("#roster-apply")
    page.wait_for_selector("#roster-applied")
    return summary


def test_the_console_profile_and_people(console):
    _, page = console
    details = page.inner_text("#profile-details")
    assert "6950106172" in details and "1026901061175" in details and "Школьная" in details
    assert "учитель" in page.inner_text("#profile-counts")
    # the file picker reads Russian: the browser's own button is hidden under the label
    assert page.inner_text("label.file-pick") == "Выбрать файл…"
    assert page.locator("#roster-file").bounding_box()["width"] <= 1
    check_page(page, "console")


def test_a_cp1251_csv_with_mistakes_then_fixed(console):
    _, page = console
    rows = _demo_rows()
    newcomer = ["ученик", "Белкина", "Дарья", "Олеговна", "31.02.2010", "", "5Б"]
    wrong_role = ["завуч", "Громов", "Илья", "", "01.01.1990", "", ""]
    _choose(page, "список.csv", csv_bytes([*rows, newcomer, wrong_role]), "text/csv")
    errors = _errors(page)
    n = len(rows) + 2  # the header is line 1
    assert errors == [
        f"строка {n}: дата рождения «31.02.2010» — такой даты нет",
        f"строка {n + 1}: роль «завуч» неизвестна: укажите «ученик» или «учитель»",
    ], errors
    check_page(page, "import-csv-errors")

    newcomer[4] = "28.02.2010"
    _choose(page, "список.csv", csv_bytes([*rows, newcomer]), "text/csv")
    summary = _preview_and_apply(page, "список.csv", "import-csv-preview")
    assert "кодировка кириллическая (1251)" in summary and "точка с запятой" in summary
    assert "Будет добавлено: 1" in summary and "завершится записей: 0" in summary
    assert "Применено строк: 14" in page.inner_text("#roster-applied")
    check_page(page, "import-csv-applied")


def test_an_xlsx_with_mistakes_then_fixed(console):
    _, page = console
    rows = _demo_rows()
    rows[3][6] = "8А"  # Смирнов Артём moves up a class
    bad = ["ученик", "Щукин", "Лев", "", "15.13.2011", "123-456-789 00", "6А"]
    data = xlsx_bytes(
        [*rows, ["ученик", "Белкина", "Дарья", "Олеговна", "28.02.2010", "", "5Б"], bad]
    )
    _choose(page, "список.xlsx", data, XLSX)
    errors = _errors(page)
    line = len(rows) + 3
    assert errors == [
        f"строка {line}: дата рождения «15.13.2011» — такой даты нет",
        f"строка {line}: СНИЛС «123-456-789 00» указан с ошибкой: нужно 11 цифр, "
        "и контрольное число должно сходиться",
    ], errors
    check_page(page, "import-xlsx-errors")

    bad[4], bad[5] = "15.12.2011", ""
    data = xlsx_bytes(
        [*rows, ["ученик", "Белкина", "Дарья", "Олеговна", "28.02.2010", "", "5Б"], bad]
    )
    _choose(page, "список.xlsx", data, XLSX)
    page.wait_for_selector("#roster-apply")
    page.click("#roster-result details >> nth=1")  # what changes: the class
    assert "класс: 7А → 8А" in page.inner_text("#roster-result")
    summary = _preview_and_apply(page, "список.xlsx", "import-xlsx-preview")
    # Белкина is added (and, when another module's walk re-imported the shared demo roster,
    # the CSV walk's pupil too): the count depends on the shared site, the class change not
    assert "таблица XLSX" in summary and "изменится: 1" in summary
    assert re.search(r"Будет добавлено: [12],", summary), summary
    assert "Применено строк: 15" in page.inner_text("#roster-applied")


def test_search_filters_and_export(console):
    _, page = console
    page.fill("#people-q", "щукин")
    page.wait_for_function("() => document.querySelectorAll('#people table tr').length === 2")
    assert "Щукин Лев" in page.inner_text("#people")
    page.fill("#people-q", "")
    page.select_option("#people-class", "7А")
    page.select_option("#people-role", "student")
    page.wait_for_function(
        """() => {
          const rows = [...document.querySelectorAll("#people table tr")].slice(1);
          return rows.length > 0 && rows.every((tr) =>
            tr.querySelector('td[data-label="Класс"]').textContent === "7А"
            && tr.querySelector('td[data-label="Роли"]').textContent === "ученик");
        }"""
    )
    names = page.locator("#people td[data-label='ФИО']").all_inner_texts()
    assert "Кузнецова София Андреевна" in names and "Смирнов Артём Дмитриевич" not in names
    check_page(page, "people-filtered")
    with page.expect_download() as download:
        page.click("#people-export")
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].split(";") == [
        "ФИО", "Роли", "Класс", "Дата рождения", "Вход через Госуслуги", "Проктор",
    ]  # fmt: skip
    assert len(lines) == len(names) + 1 and all(";7А;" in x for x in lines[1:])
    page.select_option("#people-class", "")
    page.select_option("#people-role", "")


def test_a_teacher_who_never_logged_in_is_appointed_a_proctor(console, browser):
    url, page = console
    page.fill("#people-q", "Ковалёва")
    page.wait_for_function("() => document.querySelectorAll('#people table tr').length === 2")
    page.click("#people button:has-text('Назначить проктором')")
    page.wait_for_selector("#confirm-dialog[open]")
    assert page.inner_text("#confirm-title") == "Назначить Ковалёву Марину Александровну проктором?"
    assert "при первом входе" in page.inner_text("#confirm-body")
    check_page(page, "appoint-confirm")
    page.click("#confirm-yes")
    page.wait_for_selector("#people .badge.pending")
    assert "назначен(а) проктором" in page.inner_text("#people-result")
    check_page(page, "appoint-pending")

    # her first login through Госуслуги makes the appointment a status
    teacher = browser.new_context(locale="ru-RU").new_page()
    log_in(teacher, url, WAITING_TEACHER)
    me = teacher.request.get(url + "/api/v1/me").json()
    assert sorted(s["role"] for s in me["statuses"]) == ["proctor", "teacher"]
    # the console, as a teacher sees it: the profile, no roster and no people (roster read)
    watch(teacher)
    teacher.goto(url + urlsplit(page.url).path)
    teacher.wait_for_selector("#profile-counts li")
    assert teacher.locator("#import").is_hidden() and teacher.locator("#people-section").is_hidden()
    assert teacher.locator("#profile-form").is_hidden()
    check_page(teacher, "teacher-view")
    teacher.context.close()

    page.reload()
    page.wait_for_selector("#people table")
    page.fill("#people-q", "Ковалёва")
    page.wait_for_selector("#people .badge.active")
    page.click("#people button:has-text('Снять с проктора')")
    page.wait_for_selector("#confirm-dialog[open]")
    title = page.inner_text("#confirm-title")
    assert title == "Снять Ковалёву Марину Александровну с обязанностей проктора?"
    page.click("#confirm-dialog button[value=no]")
    assert page.locator("#people .badge.active").count() == 1  # cancelled: nothing changed
