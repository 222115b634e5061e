"""Lived-in cabinets in a real browser: each persona of ``propusk.demo_states`` logs in through
the ESIA simulator and their pages are judged as a person sees them (``pagecheck.check_page``:
no error, no horizontal scroll at 1280 and 390 px, no machine key or English, axe-core clean;
screenshots in ``build/screenshots/test_browser_states/``).
"""

from __future__ import annotations

import pytest

from tests.e2e.chromium import needs_chromium
from tests.e2e.pagecheck import PageProblems, check_page, watch
from tests.e2e.people import STUDENT_FATHER, log_in

# one worker runs the module (``make test``: ``--dist loadgroup``): one seeded site, not two
pytestmark = [needs_chromium, pytest.mark.xdist_group("browser_states")]


@pytest.fixture(scope="module")
def site(demo_states_site) -> tuple:
    return demo_states_site


def _page_of(browser, url: str, oid: str, path: str = "/cabinet"):
    """A fresh browser context logged in as ``oid``, on ``path``: its watched page."""
    page = browser.new_context(locale="ru-RU").new_page()
    watch(page)
    log_in(page, url, oid, path)
    return page


def _checked(page, names: list[tuple[str, object]]) -> None:
    """Run ``check_page`` for each (name, prepare) and raise every page's problems at once."""
    failed: list[PageProblems] = []
    for name, prepare in names:
        prepare()
        try:
            check_page(page, name)
        except PageProblems as problems:
            failed.append(problems)
    if failed:
        listing = [f"{p.name}: {line}" for p in failed for line in p.problems]
        raise PageProblems(", ".join(p.name for p in failed), page.url, listing)


@pytest.mark.parametrize("persona", ["parent", "student", "adult"])
def test_a_lived_in_cabinet_is_fit_to_show(site, browser, persona):
    url, _, report = site
    states = report.personas[persona]
    page = _page_of(browser, url, states.login_oid)
    page.wait_for_selector("#profile strong")
    views = [(f"cabinet-{persona}", lambda: None)]
    if persona == "parent":  # and the child's view, where his son's consents are
        child = str(states.subject_id)
        assert page.locator(f'#subject option[value="{child}"]').count() == 1

        def child_view() -> None:
            page.select_option("#subject", child)
            page.wait_for_selector("#consents .card")

        views.append(("cabinet-parent-child", child_view))
    _checked(page, views)
    page.context.close()


def test_signing_and_verifying_pages_are_fit_to_show(site, browser):
    """The father opens the request his 14–17 daughter signed; the adult reads her written-form
    request; the father signs; his PDF is verified on the public page."""
    url, _, report = site
    student, adult = report.personas["student"], report.personas["adult"]
    (waiting,) = student.consents["partially_given"]
    (written,) = adult.written_requests

    page = _page_of(browser, url, adult.login_oid, f"/sign/{written}")
    page.wait_for_selector("article.document")
    problems = _collect(page, "sign-written-request")
    page.context.close()

    page = _page_of(browser, url, STUDENT_FATHER, f"/sign/{waiting}")
    page.wait_for_selector("article.document")
    problems += _collect(page, "sign-second-signature")
    page.check("#read")  # «Я прочитал(а) документ»: the browser stops the form without it
    page.click("form.decision button[value=sign]")
    page.wait_for_selector("text=Скачать подписанный документ")
    problems += _collect(page, "sign-result")
    pdf_href = page.get_attribute("a:has-text('Скачать подписанный документ')", "href")
    pdf = page.context.request.get(url + pdf_href)
    assert pdf.ok and pdf.body().startswith(b"%PDF")

    page.goto(url + "/verify")
    problems += _collect(page, "verify")
    page.set_input_files(
        "#file", {"name": "consent.pdf", "mimeType": "application/pdf", "buffer": pdf.body()}
    )
    page.click("form.verify button")
    page.wait_for_selector("section.verdict")
    assert "Документ подлинный" in page.inner_text("section.verdict")
    problems += _collect(page, "verify-result")
    page.context.close()
    if problems:
        raise PageProblems("signing pages", url, problems)


def _collect(page, name: str) -> list[str]:
    try:
        check_page(page, name)
    except PageProblems as found:
        return [f"{name}: {line}" for line in found.problems]
    return []
