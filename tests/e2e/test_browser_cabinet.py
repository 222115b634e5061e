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
    # No consents yet: the sections say so in Russian rather than failing.
    page.wait_for_selector("#requests p.muted")
    assert page.locator("#profile .error").count() == 0

    # The child's view is a guardian's right: the demo operator's request waits there; the
    # parent signs it (under 14: a representative alone) and downloads the receipt.
    child_value = page.locator("#subject option").nth(1).get_attribute("value")
    page.select_option("#subject", child_value)
    page.wait_for_selector("#requests .card")
    request = page.inner_text("#requests")
    assert "Проведение онлайн-аттестации по курсам ЦОС" in request  # the purpose's title
    assert "ГБУ ТО «РЦЦО» (ИНН 6952051232)" in request
    assert "attestation.online" not in request and "person.fullname" not in request
    # signing opens the consent as a document on Propusk's signing page
    page.click("#requests a:has-text('Открыть документ и ответить')")
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
    page.check("#read")  # «Я прочитал(а) документ»: required to sign
    page.click("form.decision button:has-text('Подписать')")
    page.wait_for_selector("text=Подписано")
    assert page.locator("a:has-text('Скачать подписанный документ')").count() == 1
    page.goto(server_url + "/cabinet")
    page.wait_for_selector("#profile strong")
    page.select_option("#subject", child_value)
    page.wait_for_selector("#consents .card")
    assert "действует" in page.inner_text("#consents")
    assert page.locator("#profile .error").count() == 0
    page.click("#consents a:has-text('Квитанция')")  # the receipt as a page to read
    page.wait_for_url("**/consents/*/receipt")
    assert "Квитанция" in page.inner_text("main")


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
    page.click("#profile a[href^='/school/']")
    page.wait_for_selector("#people table")
    assert "ОГРН" in page.inner_text("#profile-details")
    rows_before = page.locator("#people table tr").count()

    bad = tmp_path / "roster.csv"
    bad.write_text(
        "role,last_name,first_name,middle_name,birth_date,snils,class\n"
        "student,Иванов,Иван,,2014-02-30,,5А\n"
        "pupil,Петров,Пётр,,2013-01-01,,6Б\n",
        encoding="utf-8",
    )
    page.set_input_files("#roster-file", str(bad))
    page.click("#roster-check")
    page.wait_for_selector("#roster-result .error")
    lines = page.locator("#roster-errors li").all_inner_texts()
    assert [x.split(":")[0] for x in lines] == ["строка 2", "строка 3"], lines  # both named
    assert page.locator("#people table tr").count() == rows_before  # nothing imported
