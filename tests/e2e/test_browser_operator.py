"""The operator staff's console in a real browser (``/operator/<org>``): a staff member of the
demo's operator (ГБУ ТО «РЦЦО»; ESIA simulator: Егорова Юлия) reads the withdrawals, says
processing has stopped after one, confirms an overdue destruction and publishes a template
version; its director (Тихонов Игорь, ESIA chief → ``operator_head``) sees the staff section.
Every state is judged as a person sees it (``pagecheck.check_page``; screenshots in
``build/screenshots/test_browser_operator/``). The data: ``propusk.demo_states`` with
``propusk.demo_operator``.
"""

from __future__ import annotations

import pytest

from tests.e2e.chromium import needs_chromium
from tests.e2e.pagecheck import check_page, watch
from tests.e2e.people import log_in

pytestmark = [needs_chromium, pytest.mark.xdist_group("operator")]

STAFF = "1000400026"  # Егорова Юлия, employee of org 1000500002 in ESIA /roles
DIRECTOR = "1000400025"  # Тихонов Игорь, its chief


@pytest.fixture(scope="module")
def site(demo_states_site) -> tuple:
    return demo_states_site


def _console(browser, url: str, oid: str, org_id) -> object:
    page = browser.new_context(locale="ru-RU").new_page()
    watch(page)
    log_in(page, url, oid, f"/operator/{org_id}")
    page.wait_for_selector("body[data-loaded=yes]")
    return page


def _refusal_logged(page, status: str) -> None:
    """The browser logs a refused request itself; nothing else may be logged."""
    logged = watch(page).take()
    assert logged and all("Failed to load resource" in m and status in m for m in logged), logged


def _row(page, section: str, text: str):
    return page.locator(f"#{section} tr", has_text=text)


def test_staff_acknowledge_a_withdrawal_confirm_destruction_and_publish(site, browser):
    url, _, report = site
    org_id = report.organizations["operator"]
    page = _console(browser, url, STAFF, org_id)
    assert "РЦЦО" in page.inner_text("#org-name")
    assert page.locator("#staff").is_hidden()  # staff, not the head
    check_page(page, "operator-staff")

    # a withdrawal of yesterday: processing stopped
    row = _row(page, "withdrawals-list", "Орлов Денис")
    row.get_by_role("button", name="Обработка прекращена").click()
    dialog = page.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    assert "Орлов Денис Андреевич" in dialog.inner_text()
    check_page(page, "operator-acknowledge-dialog")
    page.click("#confirm-yes")
    page.locator("#withdrawals-status", has_text="Прекращение обработки подтверждено").wait_for()
    done = _row(page, "withdrawals-list", "Орлов Денис")
    done.locator(".badge.done").wait_for()
    assert "Егорова Юлия" in done.inner_text()
    check_page(page, "operator-acknowledged")

    # the overdue destruction task, highlighted, confirmed by name
    overdue = page.locator("#destruction-list tr.overdue", has_text="Кузнецова Мария")
    assert overdue.count() == 1 and "просрочено" in overdue.inner_text()
    overdue.get_by_role("button", name="Данные уничтожены").click()
    dialog.wait_for(state="visible")
    text = dialog.inner_text()
    assert "Кузнецова Мария Игоревна" in text and "Данные:" in text
    check_page(page, "operator-destruction-dialog")
    page.click("#confirm-yes")
    page.locator("#destruction-status", has_text="Уничтожение подтверждено").wait_for()
    assert page.locator("#destruction-list tr", has_text="Кузнецова Мария").count() == 0
    page.check("#destruction-all")
    _row(page, "destruction-list", "Кузнецова Мария").locator(".badge.done").wait_for()
    check_page(page, "operator-destroyed")

    # a new version of a template
    card = page.locator("#templates-list details").first
    card.locator("summary").click()
    card.get_by_role("button", name="Новая версия").click()
    page.locator("#template-form").wait_for(state="visible")
    page.fill("#template-text", page.input_value("#template-text") + " Редакция от декабря.")
    check_page(page, "operator-template-form")
    page.click("#template-form button[type=submit]")
    page.locator("#templates-status", has_text="Опубликована версия 2").wait_for()
    check_page(page, "operator-template-published")

    # the requests by state, and the statistics
    page.select_option("#consents-state", "withdrawn")
    page.locator("#consents-list", has_text="Кузнецова Мария").wait_for()
    page.select_option("#stats-period", "week")
    check_page(page, "operator-consents-and-stats")
    page.context.close()


def test_the_director_sees_the_staff_and_appoints(site, browser):
    url, _, report = site
    org_id = report.organizations["operator"]
    page = _console(browser, url, DIRECTOR, org_id)
    page.locator("#staff-list", has_text="Тихонов Игорь").wait_for()
    assert page.locator("#staff").is_visible()
    check_page(page, "operator-head")
    page.fill("#staff-snils", "123-456-789 00")
    page.click("#staff-form button[type=submit]")
    page.locator("#staff-status.error", has_text="СНИЛС указан с ошибкой").wait_for()
    _refusal_logged(page, "422")
    check_page(page, "operator-head-appoint-error")
    page.context.close()


def test_a_school_director_is_refused_the_operators_console(site, browser):
    url, _, report = site
    page = _console(browser, url, "1000400001", report.organizations["operator"])
    assert "недоступна" in page.inner_text("#org-name")
    assert "нет прав" in page.inner_text("#status")
    _refusal_logged(page, "403")
    check_page(page, "operator-refused")
    page.context.close()
