"""The documents people read, in a real browser (Debian Chromium) at desk and phone widths: the
landing page, the processing policy and the art. 14 answer of a child whose data has lived
(consents given, withdrawn and refused; transfers given and refused; values held).

Each page loads without a console error or an uncaught exception, never scrolls sideways
(``scrollWidth <= innerWidth``), shows no internal code, and prints as a document (no header,
navigation, footer or buttons). Screenshots go to the test's tmp dir and to
``build/screenshots/documents/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.chromium import needs_chromium
from tests.e2e.people import PARENT
from tests.support.lived_in import OPERATOR, lived_in
from tests.support.page_text import codes_in

pytestmark = needs_chromium

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots" / "documents"
WIDTHS = {"desk": (1280, 900), "phone": (390, 844)}
CHILD = "1000400006"  # Смирнов Артём, the demo parent's child (consent/demo.py)


class Watch:
    """Console errors and uncaught exceptions of one page."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("response", lambda r: r.status >= 400 and self.errors.append(f"{r.status} {r.url}"))


def _check(page, watch: Watch, name: str, tmp_path: Path) -> None:
    page.wait_for_load_state("networkidle")
    assert watch.errors == [], (name, watch.errors)
    fits = page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert fits, (name, page.evaluate("() => document.documentElement.scrollWidth"))
    text = page.inner_text("body")
    assert codes_in(text) == {}, (name, codes_in(text))
    shot = tmp_path / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, SCREENSHOTS / shot.name)


def _printed(page) -> None:
    """Printed, the page is the document alone."""
    page.emulate_media(media="print")
    for chrome in ("header.top", "footer", ".doc-actions"):
        assert page.is_hidden(chrome), chrome
    assert page.is_visible("article.doc h1")
    page.emulate_media(media="screen")


@pytest.fixture(scope="module")
def answer_id(demo_site, browser) -> str:
    """The demo parent's art. 14 request about their child, after the child's data has lived
    (the parent logs in first: that login links the child through ESIA /kids)."""
    from consent import access
    from idp import identity
    from propusk.db import session_scope, utcnow

    url, rt = demo_site
    context = browser.new_context()
    _log_in(context.new_page(), url)
    context.close()
    with session_scope(rt.sessionmaker) as s:
        parent = identity.get_person_by_oid(s, PARENT)
        child = identity.get_person_by_oid(s, CHILD)
        ids = (parent.id, child.id) if parent and child else None
    if ids is None:
        pytest.fail("the demo seed lacks the parent or the child")
    lived_in(rt, ids[1], ids[0])
    with session_scope(rt.sessionmaker) as s:
        return str(access.create_access_request(s, ids[1], ids[0], now=utcnow()).id)


def _log_in(page, url: str) -> None:
    page.goto(url + "/cabinet")
    page.wait_for_selector(f'button[data-oid="{PARENT}"]')
    page.click(f'button[data-oid="{PARENT}"]')
    page.wait_for_url(url + "/cabinet")


@pytest.mark.parametrize("width", list(WIDTHS))
def test_landing_and_policy_read_well_at_desk_and_phone_width(demo_site, browser, tmp_path, width):
    url = demo_site[0]
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h})
    page = context.new_page()
    watch = Watch(page)

    page.goto(url + "/")
    page.wait_for_selector("h1")
    assert page.locator("h1").count() == 1
    assert "Пропуск" in page.inner_text("h1")
    assert page.locator(".audience").count() == 6
    _check(page, watch, f"landing-{width}", tmp_path)

    page.click("a:has-text('Политике обработки персональных данных')")
    page.wait_for_url(url + "/policy")
    page.wait_for_selector("article.doc h1")
    assert "Биометрический шаблон лица" in page.inner_text("article.doc")
    _check(page, watch, f"policy-{width}", tmp_path)
    _printed(page)
    page.evaluate("() => { window.print = () => { window.__printed = true; }; }")
    page.click("button[data-print]")
    assert page.evaluate("() => window.__printed") is True
    context.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_art14_answer_reads_and_prints_at_desk_and_phone_width(
    demo_site, browser, answer_id, tmp_path, width
):
    url = demo_site[0]
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h})
    page = context.new_page()
    _log_in(page, url)
    watch = Watch(page)
    page.goto(f"{url}/api/v1/access-requests/{answer_id}.html")
    page.wait_for_selector("article.doc h1")
    text = page.inner_text("article.doc")
    for words in (OPERATOR, "отозвано", "отказано", "МСК", "Смирнов Артём"):
        assert words in text, words
    if width == "phone":  # tables become cards: a header row is not shown, labels are
        assert page.is_hidden("article.doc table.cards thead >> nth=0")
    _check(page, watch, f"access-answer-{width}", tmp_path)
    _printed(page)
    page.click("text=Вернуться в личный кабинет >> nth=0")
    page.wait_for_url(url + "/cabinet")
    context.close()
