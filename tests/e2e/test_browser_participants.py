"""The participant's side acted on in a real browser, by the three people it is for.

Each persona of ``propusk.demo_states`` (a lived-in account: consents in every state, given and
refused transfers, held data, demands and notices) logs in through the ESIA simulator and does
what a person does there: reads and signs a request (the written form through the step-up),
refuses one, withdraws a consent and demands that processing stop — each time told first what
follows and by which day —, opens the receipt, checks a transfer's audit record in the browser,
asks for the art. 14 answer and files a rectification by category title. Every page is judged
by ``pagecheck.check_page`` (no console or page error, no machine key or English, no horizontal
scroll at 390 px, axe-core clean; screenshots at 1280 and 390 in
``build/screenshots/test_browser_participants/``).
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.chromium import needs_chromium
from tests.e2e.pagecheck import check_page, watch
from tests.e2e.people import log_in

pytestmark = [needs_chromium, pytest.mark.xdist_group("browser_participants")]
DAY = re.compile(r"\d{2}\.\d{2}\.\d{4}")


@pytest.fixture(scope="module")
def site(demo_states_site) -> tuple:
    return demo_states_site


def _logged_in(browser, url: str, oid: str):
    page = browser.new_context(locale="ru-RU").new_page()
    watch(page)
    log_in(page, url, oid)
    page.wait_for_selector("#profile strong")
    return page


def _view(page, subject: str | None) -> None:
    """Show the subject's data (a child's, for a parent) and wait for the sections."""
    if subject:
        page.select_option("#subject", subject)
    page.wait_for_selector("#consents .card")
    page.wait_for_selector("#transfers .card")


def _sign(page, url: str, consent_id: str, oid: str, name: str) -> str:
    """Open the request from the cabinet, read it, sign it (logging in again first when the
    written form asks for a fresh login); the result page's text."""
    page.click(f"#request-{consent_id} a:has-text('Открыть документ и ответить')")
    page.wait_for_selector("article.document")
    check_page(page, f"{name}-document")
    step_up = page.locator("a:has-text('Войти через Госуслуги ещё раз')")
    if step_up.count():
        step_up.click()
        page.click(f'button[data-oid="{oid}"]')
        page.wait_for_selector("article.document")
    page.check("#read")
    page.click("button[value=sign]")
    page.wait_for_selector("main h1")
    check_page(page, f"{name}-signed")
    return page.inner_text("main")


def _refuse(page, url: str, consent_id: str, name: str) -> None:
    page.goto(f"{url}/sign/{consent_id}")
    page.wait_for_selector("article.document")
    page.click("button[value=refuse]")
    page.wait_for_selector("button:has-text('Да, отказаться')")
    check_page(page, f"{name}-refuse-confirm")
    page.click("button:has-text('Да, отказаться')")
    page.wait_for_selector("main h1")
    check_page(page, f"{name}-refused")


def _confirm(page, card: str, button: str, name: str) -> str:
    """Press ``button`` on the card: the dialog says what follows; confirm; the notice."""
    page.click(f"{card} button:has-text('{button}')")
    page.wait_for_selector("#confirm-dialog[open]")
    said = page.inner_text("#confirm-body")
    check_page(page, f"{name}-dialog")
    page.fill("#confirm-reason", "Больше не участвуем в программе")
    page.click("#confirm-yes")
    page.wait_for_selector("#cabinet-status:not(.hidden)")
    assert "error" not in (page.get_attribute("#cabinet-status", "class") or "")
    return said


def _withdraw(page, consent_id: str, name: str, *, for_all: bool) -> None:
    card = f"#consent-{consent_id}"
    said = _confirm(page, card, "Отозвать согласие", f"{name}-withdraw")
    assert "передачи прекращаются сразу" in said
    assert "уничтожить полученные данные" in said and DAY.search(said), said
    assert ("прекращает его для всех" in said) is for_all, said
    assert "Согласие отозвано" in page.inner_text("#cabinet-status")
    page.wait_for_selector(f"{card} .badge:has-text('отозвано')")
    text = page.inner_text(card)
    assert "Уничтожить данные до" in text and "Действует до" not in text, text


def _stop(page, consent_id: str, name: str) -> None:
    card = f"#consent-{consent_id}"
    said = _confirm(page, card, "Прекратить обработку", f"{name}-stop")
    assert "10 рабочих дней" in said and DAY.search(said), said
    page.wait_for_selector(f"{card} .badge:has-text('обработка приостановлена')")
    page.wait_for_selector("#obligations .card:has-text('Требование прекратить обработку')")


def _check_a_record(page, name: str) -> None:
    """The first transfer's audit record verifies in the browser; a forged one does not."""
    page.click("#transfers .card >> nth=0 >> button:has-text('Проверить запись')")
    page.wait_for_selector("#transfers .proof.ok, #transfers .proof.bad")
    assert "подлинная" in page.inner_text("#transfers .proof"), page.inner_text("#transfers .proof")
    check_page(page, f"{name}-record-checked")
    forged = page.evaluate(
        """async (subject) => {
            const query = subject ? "?subject=" + subject : "";
            const r = await propuskFetch("/api/v1/me/transfers" + query);
            const done = (await r.json()).transfers.filter((t) => t.audit && !t.audit.pending);
            const proof = done[0].audit;
            const genuine = await verifyInclusionProof(proof);
            const forged = await verifyInclusionProof({...proof, leaf: proof.leaf + " "});
            const moved = await verifyInclusionProof({...proof, index: proof.index + 1});
            return [genuine.ok, forged.ok, moved.ok];
        }""",
        page.eval_on_selector("#subject", "(s) => s.value") or None,
    )
    assert forged == [True, False, False], forged


def _receipt(page, consent_id: str, name: str) -> None:
    page.click(f"#consent-{consent_id} a:has-text('Квитанция')")
    page.wait_for_url(f"**/consents/{consent_id}/receipt")
    check_page(page, f"{name}-receipt")
    page.go_back()
    page.wait_for_selector("#profile strong")


def _art14(page, name: str) -> None:
    page.click("#access-request")
    page.wait_for_selector("#access-result a")
    assert DAY.search(page.inner_text("#access-result"))
    page.click("#access-result a")  # the answer, printable, in the same tab
    page.wait_for_selector("main h1")
    check_page(page, f"{name}-art14-answer")
    page.go_back()
    page.wait_for_selector("#profile strong")


def _rectify(page, name: str) -> None:
    page.click("#rectification summary")
    page.check("#rect-categories label:has-text('Фамилия, имя, отчество') input")
    page.fill("#rect-correction", "Отчество записано с ошибкой")
    page.fill("#rect-proof", "свидетельство о рождении от 20.04.2016")
    check_page(page, f"{name}-rectification-form")
    page.click("#rectification-form button[type=submit]")
    page.wait_for_selector("#cabinet-status:not(.hidden)")
    assert "Требование об уточнении отправлено" in page.inner_text("#cabinet-status")
    cards = page.locator("#obligations .card:has-text('Уточнение данных')")
    assert cards.count() >= 2  # the seeded one and this one


def _one(ids: list) -> str:
    return str(ids[0])


def test_a_parent_acts_for_a_child_under_14(site, browser):
    url, _, report = site
    states = report.personas["parent"]
    child = str(states.subject_id)
    page = _logged_in(browser, url, states.login_oid)
    _view(page, child)
    check_page(page, "parent-child-cabinet")
    assert "Ребёнку нет 14 лет" in page.inner_text("#subject-note")
    written = {str(i) for i in states.written_requests}
    simple = next(str(i) for i in states.consents["requested"] if str(i) not in written)
    result = _sign(page, url, simple, states.login_oid, "parent")
    assert "Подписано" in result
    _refuse(page, url, next(iter(written)), "parent")

    page.goto(url + "/cabinet")
    _view(page, child)
    assert page.locator(f"#consent-{simple} .badge:has-text('действует')").count() == 1
    assert page.locator(f"#consent-{next(iter(written))} .badge:has-text('отказано')").count() == 1
    _receipt(page, simple, "parent")
    _view(page, child)
    _stop(page, _one(states.consents["given"]), "parent")
    _withdraw(page, simple, "parent", for_all=False)
    _check_a_record(page, "parent")
    _art14(page, "parent")
    _view(page, child)
    _rectify(page, "parent")
    check_page(page, "parent-child-cabinet-after")
    page.context.close()


def test_a_student_of_16_signs_with_a_parent_and_withdraws_for_both(site, browser):
    url, _, report = site
    states = report.personas["student"]
    page = _logged_in(browser, url, states.login_oid)
    _view(page, None)
    check_page(page, "student-cabinet")
    (request,) = [str(i) for i in states.consents["requested"]]
    result = _sign(page, url, request, states.login_oid, "student")
    assert "второй подпис" in result or "представител" in result, result
    page.goto(url + "/cabinet")
    _view(page, None)
    card = page.inner_text(f"#request-{request}")  # still a request: the parent signs next
    assert "подписано частично" in card and "ждёт подписи: законный представитель" in card, card
    assert "Вы подписали" in card and "Открыть документ и ответить" not in card, card
    assert page.locator("section.subject-picker.hidden").count() == 1  # no children: no picker
    given = _one(states.consents["given"])
    _receipt(page, given, "student")
    _view(page, None)
    _stop(page, given, "student")
    _withdraw(page, given, "student", for_all=True)  # a suspended consent is still withdrawn
    _check_a_record(page, "student")
    _art14(page, "student")
    _view(page, None)
    _rectify(page, "student")
    page.context.close()


def test_an_adult_student_signs_in_writing_refuses_withdraws_and_stops(site, browser):
    url, _, report = site
    states = report.personas["adult"]
    page = _logged_in(browser, url, states.login_oid)
    _view(page, None)
    check_page(page, "adult-cabinet")
    written = _one(states.written_requests)
    result = _sign(page, url, written, states.login_oid, "adult-written")
    assert "Скачать подписанный документ" in result, result
    other = next(str(i) for i in states.consents["requested"] if str(i) != written)
    _refuse(page, url, other, "adult")
    page.goto(url + "/cabinet")
    _view(page, None)
    given = _one(states.consents["given"])
    _receipt(page, given, "adult")
    _view(page, None)
    _stop(page, given, "adult")
    _withdraw(page, written, "adult", for_all=False)
    _check_a_record(page, "adult")
    _art14(page, "adult")
    _view(page, None)
    _rectify(page, "adult")
    page.context.close()
