"""The pages keep their Content-Security-Policy in a real browser (Debian Chromium, Playwright).

Each page's answer carries the site's policy (no inline script or style, ``frame-ancestors
'none'``), and loading and using the page triggers no violation: the ESIA simulator's login
page, the cabinet and its art. 14 answer page, the school console, the exam shells and the API
reference (whose Swagger UI has its own policy). The exam pages with a camera and real frames
are checked in ``tests/biometrics/test_browser_exam.py``.
"""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.chromium import needs_chromium
from tests.e2e.csp import CspWatch
from tests.e2e.people import DIRECTOR, PARENT

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def live(demo_site) -> tuple:
    return demo_site


def _policy(response) -> dict[str, list[str]]:
    header = response.headers.get("content-security-policy")
    assert header, f"{response.url}: no Content-Security-Policy"
    return {d.split()[0]: d.split()[1:] for d in header.split(";") if d.strip()}


def _assert_site_policy(response) -> None:
    csp = _policy(response)
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"], response.url
    assert csp["frame-ancestors"] == ["'none'"], response.url
    assert response.headers["cache-control"] == "no-store", response.url


def _logged_in(browser, server_url: str, oid: str):
    """A fresh browser context through /cabinet → Propusk /login → the simulator's login page
    (checked on the way) → the person chosen; (context, page, its watch)."""
    context = browser.new_context()
    page = context.new_page()
    watch = CspWatch(page)
    with page.expect_response(lambda r: "/esia-sim/aas/oauth2/v2/ac" in r.url) as esia:
        page.goto(server_url + "/cabinet")
    page.wait_for_selector(f'button[data-oid="{oid}"]')
    _assert_site_policy(esia.value)
    watch.assert_clean("the simulator's login page")
    page.click(f'button[data-oid="{oid}"]')
    page.wait_for_url(server_url + "/cabinet")
    return context, page, watch


def _access_request(rt, oid: str) -> str:
    from consent import access
    from idp import identity
    from propusk.db import session_scope, utcnow

    with session_scope(rt.sessionmaker) as s:
        person = identity.get_person_by_oid(s, oid)
        return str(access.create_access_request(s, person.id, person.id, now=utcnow()).id)


def test_cabinet_and_the_art14_answer_load_without_violations(live, browser):
    server_url, rt = live
    context, page, watch = _logged_in(browser, server_url, PARENT)
    page.wait_for_selector("#profile strong")
    page.wait_for_selector("#requests p, #requests .card")
    watch.assert_clean("the cabinet")

    # the art. 14 answer page of a request the parent made (made through the service: the
    # page is what is checked here)
    request_id = _access_request(rt, PARENT)
    answer = context.new_page()
    answer_watch = CspWatch(answer)
    response = answer.goto(f"{server_url}/api/v1/access-requests/{request_id}.html")
    _assert_site_policy(response)
    answer.wait_for_selector("h1")
    # the stylesheet applied (no inline <style> any more) and the print button is wired
    assert answer.eval_on_selector("article.doc", "d => getComputedStyle(d).maxWidth") != "none"
    answer.evaluate("window.print = () => { window.__printed = true; }")
    answer.click("#print")
    assert answer.evaluate("window.__printed") is True
    answer_watch.assert_clean("the art. 14 answer page")
    context.close()


def test_school_console_and_exam_shells_load_without_violations(live, browser):
    server_url = live[0]
    context, page, watch = _logged_in(browser, server_url, DIRECTOR)
    page.click("#profile a[href^='/school/']")
    page.wait_for_selector("#people table")
    watch.assert_clean("the school console")

    for kind in ("take", "proctor"):
        response = page.goto(f"{server_url}/exams/{uuid.uuid4()}/{kind}")
        _assert_site_policy(response)
        page.wait_for_load_state("networkidle")
        watch.assert_clean(f"the exam {kind} page")
    context.close()


def test_api_reference_renders_under_its_own_policy(live, browser):
    server_url = live[0]
    page = browser.new_page()
    watch = CspWatch(page)
    response = page.goto(server_url + "/docs")
    csp = _policy(response)
    assert csp["script-src"] == ["'self'"] and csp["frame-ancestors"] == ["'none'"]
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    page.click(".opblock-summary-path >> nth=0")  # expand an operation: more of the UI renders
    page.wait_for_selector(".opblock-body")
    watch.assert_clean("/docs")
    page.close()
