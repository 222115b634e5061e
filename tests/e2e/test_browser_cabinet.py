"""A parent logs in to the web cabinet in a real browser (Debian Chromium via Playwright).

The chain is the one a person clicks through: /cabinet → Propusk /login → the ESIA simulator's
login page → choose the demo parent → back in the cabinet, which shows the person, their
statuses and their child, all read from the JSON API with the login cookie.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.chromium import needs_chromium
from tests.e2e.people import DIRECTOR, PARENT

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server_url(demo_site) -> str:
    return demo_site[0]


def test_parent_logs_in_and_sees_child(server_url, browser, tmp_path: Path):
    page = browser.new_page()
    page.goto(server_url + "/cabinet")
    page.wait_for_selector(f'button[data-oid="{PARENT}"]')  # the simulator's login page
    assert "Вход через Госуслуги" in page.content()
    page.click(f'button[data-oid="{PARENT}"]')
    page.wait_for_url(server_url + "/cabinet")
    page.wait_for_selector("#profile strong")
    assert "Смирнов Дмитрий" in page.inner_text("#profile")
    assert "родитель" in page.inner_text("#profile")
    options = page.locator("#subject option").all_inner_texts()
    assert any("Смирнов Артём" in o for o in options), options
    page.screenshot(path=str(tmp_path / "cabinet.png"), full_page=True)
    # No consents yet: the tables say so in Russian rather than failing.
    page.wait_for_selector("#requests p, #requests table")
    assert page.locator("#profile .error").count() == 0

    # The child's view is a guardian's right: the demo operator's request waits there; the
    # parent signs it (under 14: a representative alone) and downloads the receipt.
    child_value = page.locator("#subject option").nth(1).get_attribute("value")
    page.select_option("#subject", child_value)
    page.wait_for_selector("#requests table")
    assert "attestation.online" in page.inner_text("#requests")
    # signing opens the consent as a document on Propusk's signing page
    page.click("#requests a:has-text('Открыть и ответить')")
    page.wait_for_selector("article.document")
    text = page.inner_text("article.document")
    for element in (
        "Законный представитель субъекта",
        "Основание полномочий",
        "ИНН",
        "Цель обработки",
        "Перечень персональных данных",
        "Порядок отзыва",
    ):
        assert element in text, element
    page.screenshot(path=str(tmp_path / "sign.png"), full_page=True)
    page.click("form.decision button:has-text('Подписать')")
    page.wait_for_selector("text=Подписано")
    assert page.locator("a:has-text('Скачать подписанный документ')").count() == 1
    page.goto(server_url + "/cabinet")
    page.wait_for_selector("#profile strong")
    page.select_option("#subject", child_value)
    page.wait_for_selector("#consents table")
    assert "действует" in page.inner_text("#consents")
    with page.expect_download() as download:
        page.click("#consents button:has-text('Квитанция')")
    receipt = Path(download.value.path()).read_text()
    assert receipt.count(".") == 2  # a compact JWS
    assert page.locator("#profile .error").count() == 0


def test_anonymous_cabinet_redirects_to_esia_login(server_url, browser):
    page = browser.new_page()
    page.goto(server_url + "/cabinet")
    page.wait_for_selector("form button[name=oid]")
    assert "/esia-sim/" in page.url


def test_school_admin_console_reports_bad_roster_rows(server_url, browser, tmp_path: Path):
    page = browser.new_page()
    page.goto(server_url + "/cabinet")
    page.click(f'button[data-oid="{DIRECTOR}"]')
    page.wait_for_url(server_url + "/cabinet")
    page.click("text=консоль школы")
    page.wait_for_selector("#roster table")
    assert "ОГРН" in page.inner_text("#school-meta")
    rows_before = page.locator("#roster table tr").count()

    bad = tmp_path / "roster.csv"
    bad.write_text(
        "role,last_name,first_name,middle_name,birth_date,snils,class\n"
        "student,Иванов,Иван,,2014-02-30,,5А\n"
        "pupil,Петров,Пётр,,2013-01-01,,6Б\n",
        encoding="utf-8",
    )
    page.set_input_files("#roster-file", str(bad))
    page.click("#roster-form button")
    page.wait_for_selector("#roster-result .error")
    lines = page.locator("#roster-result table tr td:first-child").all_inner_texts()
    assert {"2", "3"} <= set(lines), lines  # both bad lines are named
    assert page.locator("#roster table tr").count() == rows_before  # nothing imported


def test_participant_files_a_rectification_demand(server_url, browser):
    page = browser.new_page()
    page.on("dialog", lambda d: (_ for _ in ()).throw(AssertionError(d.message)))
    page.goto(server_url + "/cabinet")
    page.click(f'button[data-oid="{PARENT}"]')
    page.wait_for_url(server_url + "/cabinet")
    page.wait_for_selector("#obligations p, #obligations table")
    page.click("text=Сообщить о неверных данных")
    page.fill("#rect-categories", "person.fullname")
    page.fill("#rect-correction", "Смирнов Дмитрий Александрович")
    page.fill("#rect-proof", "паспорт, выдан 01.02.2020")  # described, never its number
    page.click("#rectification-form button")
    page.wait_for_selector("#obligations table")
    row = page.inner_text("#obligations table")
    assert "уточнение данных" in row and "в работе" in row
