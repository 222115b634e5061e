"""The platform administrator's console (``/admin``) in a real browser, on the lived-in demo
(``propusk demo --states``: a foreign-located operator, an overdue incident and RKN request).

Петров (1000400027, the fixture's platform administrator) logs in through the ESIA simulator,
creates an application and sees its secret once, rotates it (the old secret stops working at the
token endpoint, the new one works), registers an organisation — first with a wrong ИНН (a
Russian error naming the field), then right —, adds an access rule and finds it in the history,
asks who may do what, reads the overdue obligations and verifies the audit log. A parent opening
the page reads that it is not for him. Every state is judged by ``pagecheck.check_page``
(screenshots in ``build/screenshots/test_browser_platform/``).
"""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.chromium import needs_chromium
from tests.e2e.pagecheck import check_page, watch
from tests.e2e.people import PARENT, log_in
from tests.support.consent_world import inn10, ogrn13

pytestmark = [needs_chromium, pytest.mark.xdist_group("platform")]

ADMIN = "1000400027"  # Петров: the fixture's platform administrator


@pytest.fixture(scope="module")
def site(demo_states_site) -> tuple:
    return demo_states_site


def _console(browser, url: str, oid: str, path: str = "/admin"):
    page = browser.new_context(locale="ru-RU", permissions=["clipboard-read", "clipboard-write"])
    page = page.new_page()
    watch(page)
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations are read in the test
    log_in(page, url, oid, path)
    return page


def _token(url: str, client_id: str, secret: str) -> int:
    r = httpx.post(
        url + "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=30,
    )
    return r.status_code


def _expected_refusals(page, status: str) -> None:
    """The browser logs a refused request («Failed to load resource»): here it is the point."""
    logged = watch(page).take()
    assert logged and all("Failed to load resource" in m and status in m for m in logged), logged


def _pick(page, form: str = "rule", **values: str) -> None:
    """Choose options of the rule form (or another form's selects ``#<form>-<name>``): by
    value, or by the label a person reads when the value starts with «label:»."""
    for name, value in values.items():
        if value.startswith("label:"):
            page.select_option(f"#{form}-{name}", label=value.removeprefix("label:"))
        else:
            page.select_option(f"#{form}-{name}", value)


def _wrong(inn: str) -> str:
    return inn[:-1] + str((int(inn[-1]) + 1) % 10)


def test_the_platform_admin_runs_the_platform(site, browser):
    url, _, _ = site
    page = _console(browser, url, ADMIN, "/cabinet")  # the cabinet leads to the console
    page.click("#profile a[href='/admin']")  # «открыть консоль» by the status
    page.wait_for_url(url + "/admin")
    page.wait_for_selector("#clients table")
    page.wait_for_selector("#overdue table")
    page.wait_for_selector("#policy-history table")
    overdue = page.inner_text("#overdue")
    assert "Инцидент с персональными данными" in overdue and "Запрос Роскомнадзора" in overdue
    assert "МСК" in overdue and "ГБУ ТО «РЦЦО»" in overdue
    assert "трансграничная передача" in page.inner_text("#organizations")
    assert "Записей в журнале" in page.inner_text("#audit-status")
    check_page(page, "admin")

    # an application: its secret shown once, with a copy button
    confirmations: list[str] = []
    page.on("dialog", lambda dialog: confirmations.append(dialog.message))
    page.fill("#client-name", "Сервер олимпиадного центра")
    page.select_option("#client-kind", "client_credentials")
    page.select_option(
        "#client-org", label="АНО «Центр олимпиадной подготовки „Эрудит“» (оператор)"
    )
    page.click("#client-form button[type=submit]")
    page.wait_for_selector("#secret-value")
    secret = page.inner_text("#secret-value")
    assert "больше его не покажет" in page.inner_text("#secret")
    client_id = page.inner_text("#secret code.hash >> nth=0")
    assert _token(url, client_id, secret) == 200
    page.click("#copy-secret")
    page.wait_for_selector("#secret :text('Скопировано')")
    check_page(page, "admin-client-created")

    # its secret rotated: the old one stops working
    page.click("button[aria-label='Сменить секрет: Сервер олимпиадного центра']")
    page.wait_for_function(
        "([old]) => document.querySelector('#secret-value')?.textContent !== old", arg=[secret]
    )
    assert any("«Сервер олимпиадного центра»" in c for c in confirmations), confirmations
    rotated = page.inner_text("#secret-value")
    assert "Новый секрет" in page.inner_text("#secret")
    assert _token(url, client_id, secret) == 401 and _token(url, client_id, rotated) == 200
    check_page(page, "admin-secret-rotated")
    page.click("#secret button.secondary")  # «Секрет сохранён — скрыть»: the secret leaves the page

    # the school's website bound to its operator (confirmed), then the olympiad server deleted
    page.click("button[aria-label='Организация: Сайт школы № 17']")
    page.select_option("#binding-org", label="ГБУ ТО «РЦЦО» (оператор)")
    check_page(page, "admin-client-binding")
    page.click("#client-binding button[type=submit]")
    page.wait_for_selector("#client-result :text('действует от имени')")
    assert "ГБУ ТО «РЦЦО»" in page.inner_text("#clients tr:has-text('Сайт школы № 17')")
    assert any("Привязать приложение «Сайт школы № 17»" in c for c in confirmations)
    page.click("button[aria-label='Удалить: Сервер олимпиадного центра']")
    page.wait_for_selector("#client-result :text('удалено')")
    assert "Сервер олимпиадного центра" not in page.inner_text("#clients")
    assert any("Удалить приложение «Сервер олимпиадного центра»" in c for c in confirmations)
    assert _token(url, client_id, rotated) == 401

    # an organisation: a wrong ИНН first
    inn, ogrn = inn10(), ogrn13()
    page.fill("#org-name", "ООО «Школьные тесты»")
    page.select_option("#org-kind", "operator")
    page.fill("#org-inn", _wrong(inn))
    page.fill("#org-ogrn", ogrn)
    page.fill("#org-address", "123456, г. Москва, ул. Тверская, д. 1")
    page.fill("#org-storage-location", "ЦОД «Москва-2», г. Москва")
    page.fill("#org-registry", "77-26-001234")
    page.select_option("#org-storage-country", "DE")
    assert "ч. 5 ст. 18" in page.inner_text("#org-flags")
    page.select_option("#org-storage-country", "RU")
    page.click("#org-form button[type=submit]")
    page.wait_for_selector("#org-result .error")
    assert "ИНН" in page.inner_text("#org-result")
    _expected_refusals(page, "422")
    check_page(page, "admin-organization-wrong-inn")
    page.fill("#org-inn", inn)
    page.click("#org-form button[type=submit]")
    page.wait_for_selector("#org-result :text('зарегистрирована')")
    page.wait_for_selector("#organizations :text('ООО «Школьные тесты»')")
    page.click("#organizations tr:has-text('ООО «Школьные тесты»') button")
    page.wait_for_selector("#organization-view :text('77-26-001234')")
    check_page(page, "admin-organization-registered")

    # an access rule added (confirmed), found in the history with who and when
    _pick(page, role="operator", domain="org:*", object="consent.feed", action="read")
    _pick(page, condition="same_org")
    page.click("#rule-form button[type=submit]")
    page.wait_for_selector("#rule-result .ok")
    page.wait_for_selector("#policy-history :text('Добавлено правило')")
    history = page.inner_text("#policy-history")
    assert "вы" in history and "Приложение оператора" in history
    page.click("#file-rules summary")
    check_page(page, "admin-policy-history")
    page.click("#rules button.danger")
    page.wait_for_selector("#policy-history :text('Удалено правило')")
    assert any("Удалить правило" in c for c in confirmations), confirmations

    # who may do what
    _pick(page, "explain", subject="label:Приложение «Сервер ГБУ ТО «РЦЦО»»")
    _pick(page, "explain", object="consent.request", action="create")
    _pick(page, "explain", domain="label:в организации «ГБУ ТО «РЦЦО»»")
    page.click("#explain-form button[type=submit]")
    page.wait_for_selector("#explain-result :text('Разрешено')")
    check_page(page, "admin-explain")

    # the audit log verified, as `propusk audit verify` does
    page.click("#verify")
    page.wait_for_selector("#verify-result :text('Журнал цел')")
    check_page(page, "admin-audit-verified")
    page.context.close()


def test_a_person_without_the_status_reads_that_the_console_is_not_theirs(site, browser):
    url, _, _ = site
    page = _console(browser, url, PARENT)
    page.wait_for_selector("#admin-note.error")
    assert "для администратора платформы" in page.inner_text("#admin-note")
    assert not page.is_visible("#clients-section")
    assert not page.is_visible("nav.toc")  # no links to sections that are not there
    check_page(page, "admin-not-for-you")
    page.context.close()
