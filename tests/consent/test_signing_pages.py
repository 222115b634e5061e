"""The signing pages as a person reads them, over real HTTP through the ESIA simulator: the
request as a document (operator, purpose, data, actions, term, withdrawal, the full text, who
signs), the «Я прочитал(а) документ» box enforced by the server, the refusal's confirmation,
the result, the readable receipt and the public verification — all in Russian, no catalogue key
and no Latin word but abbreviations anywhere a person reads."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.browsing import cabinet, hidden_fields
from tests.support.consent_world import SIGNING_TEXT, request_consent, signing_operator
from tests.support.page_text import machine_words, visible_text

ADULT = "1000400024"  # Волков Виктор, confirmed ESIA account
TEENS_PARENT, TEEN = "1000400024", "1000400013"  # Волков; ESIA /kids: Волкова Полина (17)
RECEIPT_BOX = re.compile(r'<pre id="jws"[^>]*>([^<]+)</pre>')


@pytest.fixture
def stack(pg_sim_stack):
    """On PostgreSQL only: the pages read the same on either database (``test_signing.py``
    signs on both)."""
    return pg_sim_stack


class Opened:
    """An adult with a fresh request of a simple-form operator, its signing page open."""

    def __init__(self, stack) -> None:
        self.url, rt = stack
        self.op = signing_operator(rt, form="any")
        self.browser = cabinet(self.url, ADULT)
        self.cid = request_consent(self.url, rt, self.op, ADULT)
        self.page = self.browser.get(f"{self.url}/sign/{self.cid}")
        assert self.page.status_code == 200
        self.fields = hidden_fields(self.page.text)

    def post(self, **fields: str) -> httpx.Response:
        return self.browser.post(f"{self.url}/sign/{self.cid}", data={**self.fields, **fields})

    def get(self, path: str) -> httpx.Response:
        return self.browser.get(self.url + path)


def _read(response: httpx.Response) -> str:
    """The page's visible text, after checking a person can read all of it."""
    text = visible_text(response.text)
    assert machine_words(text) == [], (machine_words(text), text)
    return text


def test_a_request_opens_as_the_document_it_signs(stack):
    opened = Opened(stack)
    op, page = opened.op, opened.page
    text = _read(page)
    for element in (
        f"{op['org']} просит согласие на обработку персональных данных",
        f"ИНН {op['inn']}",
        "г. Казань, ул. Баумана, д. 1",
        "Проведение онлайн-аттестации по курсам ЦОС",  # the purpose's title
        "Фамилия, имя, отчество",  # the category's title
        "сбор, хранение, использование",
        "автоматизированная обработка",
        "365 дней со дня, когда согласие дано полностью",
        "В личном кабинете Пропуска",  # how to withdraw
        SIGNING_TEXT,  # the template's full text
        "Пока никто не подписал",
        "Если отказаться, данные по этому запросу передаваться не будут",
        "Я прочитал(а) документ",
    ):
        assert element in text, element
    assert '<input type="checkbox" id="read" name="read" value="1" required' in page.text
    assert 'value="refuse" class="secondary" formnovalidate' in page.text  # refusing needs no box
    opened.browser.close()


def test_signing_needs_the_read_box_also_at_the_server(stack):
    opened = Opened(stack)
    for box in ({}, {"read": ""}, {"read": "0"}, {"read": "on"}):
        missing = opened.post(decision="sign", **box)
        assert missing.status_code == 422, box
        text = _read(missing)
        assert "Отметьте «Я прочитал(а) документ», чтобы подписать" in text
        assert 'role="alert"' in missing.text and 'aria-invalid="true"' in missing.text
        assert "Документ целиком" in text  # the document again, to read
        assert hidden_fields(missing.text) == opened.fields  # the same form, to answer again
    assert opened.get(f"/api/v1/consents/{opened.cid}").json()["state"] == "requested"
    assert opened.post(decision="sign", read="1").status_code == 303
    assert opened.get(f"/api/v1/consents/{opened.cid}").json()["state"] == "given"
    opened.browser.close()


def test_a_teenager_is_told_who_else_signs_and_who_did(stack):
    url, rt = stack
    op = signing_operator(rt, form="any")
    teen, parent = cabinet(url, TEEN), cabinet(url, TEENS_PARENT)
    cid = request_consent(url, rt, op, TEEN)
    text = _read(teen.get(f"{url}/sign/{cid}"))
    assert "Ещё нужна подпись: законный представитель (Волков Виктор" in text
    assert "каждый в своём входе через Госуслуги" in text
    page = teen.get(f"{url}/sign/{cid}")
    fields = {**hidden_fields(page.text), "decision": "sign", "read": "1"}
    done = teen.post(f"{url}/sign/{cid}", data=fields, follow_redirects=True)
    text = _read(done)
    assert "Ваша подпись принята" in text
    assert "Согласие начнёт действовать, когда подпишет законный представитель" in text
    text = _read(parent.get(f"{url}/sign/{cid}"))
    assert re.search(r"Волкова Полина \w+ — участник, \d\d\.\d\d\.\d{4} \d\d:\d\d \(МСК\)", text)
    assert "вашего ребёнка — Волкова Полина" in text
    teen.close()
    parent.close()


def test_the_result_the_receipt_and_its_verification_read_as_russian(stack):
    opened = Opened(stack)
    url, op, browser, cid = opened.url, opened.op, opened.browser, opened.cid
    result = opened.get(opened.post(decision="sign", read="1").headers["location"])
    text = _read(result)
    assert "Подписано" in text and "Что теперь" in text
    assert re.search(r"Согласие действует до \d\d\.\d\d\.\d{4} \d\d:\d\d \(МСК\)", text)
    assert 'href="/cabinet"' in result.text and f'href="/consents/{cid}/receipt"' in result.text
    pdf_url = re.search(r'href="(/api/v1/consents/[^"]+\.pdf)"', result.text).group(1)

    receipt = browser.get(f"{url}/consents/{cid}/receipt")
    assert receipt.status_code == 200
    text = _read(receipt)
    for element in (
        "Квитанция о согласии",
        "Подпись квитанции проверена",
        "Событие Согласие дано",
        "Кто Волков Виктор",
        "— участник",
        op["org"],
        f"ИНН {op['inn']}",
        "Проведение онлайн-аттестации по курсам ЦОС",
        "Фамилия, имя, отчество",
        "Состояние сейчас действует до",
        "(МСК)",
        "Как проверить",
    ):
        assert element in text, element
    assert pdf_url in receipt.text  # the signed PDF
    jws = RECEIPT_BOX.search(receipt.text).group(1)
    assert jws.count(".") == 2
    checked = httpx.post(url + "/verify", data={"receipt": jws})
    assert checked.status_code == 200
    text = _read(checked)
    assert "Квитанция подлинная" in text and "согласие дано" in text
    assert "Состояние сейчас действует до" in text and "(МСК)" in text
    pdf = browser.get(url + pdf_url)
    checked = httpx.post(url + "/verify", files={"file": ("c.pdf", pdf.content)})
    assert checked.status_code == 200 and "Документ подлинный" in _read(checked)

    # withdrawn: the latest receipt is the withdrawal's; the grant's is a link away and says
    # what the consent is now; the grant's old receipt, checked again, says so too
    assert browser.post(f"{url}/api/v1/consents/{cid}/withdraw").status_code == 200
    receipt = browser.get(f"{url}/consents/{cid}/receipt")
    text = _read(receipt)
    assert "Квитанция об отзыве согласия" in text and "Событие Согласие отозвано" in text
    assert "Состояние сейчас отозвано" in text
    assert f'href="/consents/{cid}/receipt?event=given"' in receipt.text
    given = browser.get(f"{url}/consents/{cid}/receipt?event=given")
    assert "Квитанция о согласии" in _read(given)
    text = _read(httpx.post(url + "/verify", data={"receipt": jws}))
    assert "Квитанция подлинная" in text and "Состояние сейчас отозвано" in text
    assert browser.get(f"{url}/consents/{cid}/receipt?event=other").status_code == 400
    browser.close()


def test_a_refusal_is_explained_confirmed_and_has_no_receipt(stack):
    opened = Opened(stack)
    url, browser, cid = opened.url, opened.browser, opened.cid
    ask = opened.post(decision="refuse")
    assert ask.status_code == 200
    text = _read(ask)
    for element in (
        "Отказаться от согласия?",
        "Что произойдёт после отказа",
        "Данные по этому запросу передаваться не будут",
        "оператору придётся прислать новый запрос",
        "Вернуться к документу",
    ):
        assert element in text, element
    assert 'href="/cabinet"' in ask.text
    assert browser.get(f"{url}/api/v1/consents/{cid}").json()["state"] == "requested"
    done = browser.post(f"{url}/sign/{cid}", data=hidden_fields(ask.text), follow_redirects=True)
    text = _read(done)
    assert "Отказ принят" in text and "Что теперь" in text and "Вы отказались" in text
    assert 'href="/cabinet"' in done.text and "/receipt" not in done.text
    none = browser.get(f"{url}/consents/{cid}/receipt")
    assert none.status_code == 409
    assert "Квитанцию выдают, когда согласие дано или отозвано" in _read(none)
    browser.close()
