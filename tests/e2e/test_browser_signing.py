"""Signing in a real browser (Debian Chromium): the demo parent opens his child's request, reads
it as a document, ticks «Я прочитал(а) документ», signs, reads the result and the receipt,
saves the receipt, checks it on the public page; refuses a second request after confirming.

Every page is looked at 1280 and 390 px wide: no console or page error, no CSP violation, no
horizontal scroll, no catalogue key or Latin word but abbreviations in what a person reads;
screenshots go to ``build/screenshots/signing/`` (looked at by whoever changes these pages).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from propusk.db import session_scope
from tests.e2e.chromium import needs_chromium
from tests.e2e.csp import CspWatch
from tests.e2e.people import PARENT
from tests.support.page_text import VISIBLE_JS, machine_words

pytestmark = needs_chromium
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots" / "signing"
WIDTHS = (1280, 390)
CHILD = "1000400006"  # Смирнов Артём (7А), the demo request's child


class Tab:
    """One browser tab with what went wrong in it (console and page errors, CSP)."""

    def __init__(self, context) -> None:
        self.page = context.new_page()
        self.watch = CspWatch(self.page)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("console", self._console)
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url}"))
        self.page.on(
            "response",
            lambda r: self.errors.append(f"{r.status}: {r.url}") if r.status >= 400 else None,
        )

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text} {message.location}")

    def look(self, name: str, status: int = 200) -> str:
        """The page at each width: screenshot, no scroll sideways, Russian only, no error
        (but the browser's note of the page's own 4xx ``status``); returns what a person
        reads."""
        if status != 200:  # the page's own answer, as the browser notes it
            said = (f"the server responded with a status of {status}", f"{status}: {self.page.url}")
            self.errors = [e for e in self.errors if not any(x in e for x in said)]
        page = self.page
        text = ""
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
            scroll = page.evaluate("() => document.documentElement.scrollWidth")
            assert scroll <= width, f"{name}: {scroll} px wide at {width}"
            text = page.evaluate(VISIBLE_JS)
            assert machine_words(text) == [], f"{name}: {machine_words(text)}"
        self.watch.assert_clean(name)
        assert self.errors == [], f"{name}: {self.errors}"
        return text


@pytest.fixture(scope="module")
def live(demo_site) -> tuple:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return demo_site


def _requests(rt) -> tuple[str, str]:
    """The demo request for the child, and a second one (another operator) to refuse."""
    from consent import catalogue, lifecycle, parties, templates
    from idp import identity
    from propusk.db import utcnow
    from tests.support.consent_world import org_fields, template_fields

    with session_scope(rt.sessionmaker) as s:
        child = identity.get_person_by_oid(s, CHILD)
        (demo,) = lifecycle.list_consents(s, child.id, utcnow(), pending=True)
        catalogue.load_catalogue(s)
        org = parties.register_organization(
            s,
            org_fields(name="АНО «Олимпиадный центр»", address="г. Тверь, ул. Школьная, д. 5"),
            actor="test",
        )
        body = template_fields(
            purpose="olympiad.registration",
            categories=["person.fullname", "person.birthdate"],
            text="Согласие на обработку персональных данных для регистрации на олимпиаду.",
        )
        tpl = templates.publish_template(s, org, body, actor="test")
        second = lifecycle.create_request(
            s,
            org,
            template_id=tpl.id,
            subject_id=child.id,
            categories=None,
            purpose=None,
            supplier_id=None,
            actor="test",
            now=utcnow(),
        )
        return str(demo.id), str(second.id)


def test_a_parent_reads_signs_and_keeps_the_receipt(live, browser):
    url, rt = live
    context = browser.new_context(  # a Russian person's browser
        viewport={"width": 1280, "height": 900}, locale="ru-RU", accept_downloads=True
    )
    tab = Tab(context)
    page = tab.page
    page.goto(url + "/cabinet")
    page.click(f'button[data-oid="{PARENT}"]')
    page.wait_for_url(url + "/cabinet")
    page.wait_for_selector("#profile strong")
    # the cabinet's sections load after the name: leaving earlier aborts their requests, which
    # the tab would count as failures
    page.wait_for_load_state("networkidle")
    signed_id, refused_id = _requests(rt)
    tab.errors.clear()  # the login and cabinet pages are judged by their own tests

    # the request as a document
    page.goto(f"{url}/sign/{signed_id}")
    page.wait_for_selector("article.document")
    text = tab.look("01-document")
    for element in (
        "ГБУ ТО «РЦЦО» просит согласие",
        "вашего ребёнка — Смирнов Артём",
        "ИНН 6952051232",
        "170100, г. Тверь, ул. Советская, д. 1",
        "Оценки и результаты аттестации",
        "сбор, запись, хранение, использование, передача",
        "365 дней",
        "Что будет дальше",
        "Я прочитал(а) документ",
    ):
        assert element in text, element

    # «Подписать» without the box: the browser stops and says why, in Russian
    page.click("button[value=sign]")
    assert page.url == f"{url}/sign/{signed_id}"
    said = page.eval_on_selector("#read", "(e) => e.validationMessage")
    assert said == "Отметьте «Я прочитал(а) документ», чтобы подписать.", said
    # a browser that does not stop it (no form validation): the server does, and shows why
    page.eval_on_selector("#read", "(e) => { e.required = false; e.setCustomValidity(''); }")
    page.click("button[value=sign]")
    page.wait_for_selector("#read-error")
    text = tab.look("01-document-not-ticked", status=422)
    assert "Отметьте «Я прочитал(а) документ», чтобы подписать" in text
    page.check("#read")
    page.click("button[value=sign]")
    page.wait_for_url(f"{url}/sign/{signed_id}/result")
    text = tab.look("02-result")
    assert "Подписано" in text and "Что теперь" in text and "Согласие действует до" in text
    assert page.locator("a:has-text('Скачать подписанный документ')").count() == 1

    # the receipt page: verified, copyable, saved as a file, printable
    page.click("a:has-text('Открыть квитанцию')")
    page.wait_for_selector("pre#jws")
    text = tab.look("03-receipt")
    for element in ("Квитанция о согласии", "Подпись квитанции проверена", "Смирнов Дмитрий"):
        assert element in text, element
    assert page.is_visible("#print") and page.is_visible("#copy")
    shown = page.inner_text("pre#jws").strip()
    with page.expect_download() as download:
        page.click("#download")
    assert download.value.suggested_filename == f"consent-{signed_id}-given.jws"
    assert Path(download.value.path()).read_text().strip() == shown
    page.emulate_media(media="print")
    page.screenshot(path=str(SHOTS / "03-receipt-print.png"), full_page=True)
    assert not page.is_visible("#print") and not page.is_visible("header.top")
    page.emulate_media(media="screen")

    # anyone can check it: the public page, no login needed
    page.click("a:has-text('проверки согласия')")
    page.wait_for_selector("form.verify")
    tab.look("04-verify")
    page.fill("#receipt", shown)
    page.click("form.verify button")
    page.wait_for_selector("section.verdict.ok")
    text = tab.look("05-verify-result")
    assert "Квитанция подлинная" in text and "Состояние сейчас действует" in text

    # a second request, refused: asked to confirm first, then told what happens now
    page.goto(f"{url}/sign/{refused_id}")
    page.wait_for_selector("article.document")
    assert "АНО «Олимпиадный центр»" in tab.look("06-second-document")
    page.click("button[value=refuse]")  # no box needed to refuse
    page.wait_for_selector("text=Что произойдёт после отказа")
    tab.look("07-refusal-confirmation")
    page.click("button:has-text('Да, отказаться')")
    page.wait_for_url(f"{url}/sign/{refused_id}/result")
    text = tab.look("08-refused")
    assert "Отказ принят" in text and "Вы отказались" in text
    page.goto(f"{url}/consents/{refused_id}/receipt")  # nothing was given: no receipt
    assert "Квитанцию выдают, когда согласие дано или отозвано" in tab.look("09-no-receipt", 409)
    page.click("a:has-text('Перейти в личный кабинет')")
    page.wait_for_url(url + "/cabinet")
    context.close()
