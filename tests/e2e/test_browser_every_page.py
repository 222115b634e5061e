"""Every page of the site judged as a person sees it, in the states the other browser modules do
not reach: the public pages, the ESIA simulator's login page, the school console, the exam
pages reached with a link that leads nowhere, and the logout confirmation.

``pagecheck.check_page``: no console or page error, no machine key or English, no horizontal
scroll at 1280 and 390 px, axe-core clean; screenshots in
``build/screenshots/test_browser_every_page/``.
"""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.chromium import needs_chromium
from tests.e2e.pagecheck import check_page, watch
from tests.e2e.people import DIRECTOR, log_in

pytestmark = [needs_chromium, pytest.mark.xdist_group("browser_every_page")]


@pytest.fixture(scope="module")
def site(demo_site) -> str:
    return demo_site[0]


def _page(browser):
    page = browser.new_context(locale="ru-RU").new_page()
    watch(page)
    return page


@pytest.mark.parametrize(
    ("path", "ready"),
    [("/", "main h1"), ("/policy", "main h1"), ("/verify", "form.verify")],
)
def test_public_pages(site, browser, path, ready):
    page = _page(browser)
    page.goto(site + path)
    page.wait_for_selector(ready)
    check_page(page, "public" + (path.replace("/", "-") if path != "/" else "-landing"))
    page.context.close()


def test_the_esia_login_page_a_visitor_is_sent_to(site, browser):
    page = _page(browser)
    page.goto(site + "/cabinet")
    page.wait_for_selector(f'button[data-oid="{DIRECTOR}"]')
    check_page(page, "esia-login", allow_words={"ESIA"})
    page.context.close()


def test_the_school_console_and_a_lost_exam_link(site, browser):
    page = _page(browser)
    log_in(page, site, DIRECTOR)
    page.wait_for_selector("#profile strong")
    page.click("#profile a[href^='/school/']")
    page.wait_for_selector("#people table")
    check_page(page, "school-console")
    exam = uuid.uuid4()  # a link to an exam that does not exist (or is not theirs)
    for role in ("take", "proctor"):
        page.goto(f"{site}/exams/{exam}/{role}")
        page.wait_for_load_state("networkidle")
        # the browser logs the refused request itself; nothing else may be logged
        logged = watch(page).take()
        assert all("Failed to load resource" in m and ("403" in m or "404" in m) for m in logged)
        check_page(page, f"exam-{role}-unknown")
    page.goto(site + "/oauth2/logout")
    page.wait_for_selector("main h1")
    check_page(page, "logout-confirmation")
    page.context.close()


@pytest.mark.parametrize(
    ("oid", "status"),
    [
        ("1000400026", "сотрудник оператора — ГБУ ТО «РЦЦО»"),  # ESIA /roles: an employee
        ("1000400027", "администратор платформы"),  # the fixture's platform administrator
    ],
)
def test_operator_staff_and_the_platform_admin_see_who_they_are(site, browser, oid, status):
    page = _page(browser)
    log_in(page, site, oid)
    page.wait_for_selector("#profile .statuses")
    assert status in page.inner_text("#profile")
    check_page(page, f"cabinet-{oid}")
    page.context.close()
