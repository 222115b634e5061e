"""The signing ceremony over real HTTP, through the ESIA simulator: the hosted signing page, the
written form (confirmed account, fresh login — step-up), the signed document and its PDF, the
public verification page, and forged or stale posts."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from idp.oidc.models import LoginSession
from propusk.db import session_scope, utcnow
from tests.browsing import cabinet, hidden_fields, login_fresh
from tests.support.consent_world import request_consent, signing_operator
from tests.support.page_text import KEYS

CONFIRMED_ADULT = "1000400024"  # Волков Виктор, confirmed ESIA account
UNCONFIRMED_ADULT = "1000400029"  # Кравцова Алина: ESIA account not confirmed
TEENS_PARENT, TEEN = "1000400024", "1000400013"  # Волков; ESIA /kids: Волкова Полина (17)


@pytest.fixture
def stack(sim_stack):
    return sim_stack


def _submit(browser: httpx.Client, url: str, consent_id: str) -> httpx.Response:
    """Open the signing page and press «Подписать» (even where the page shows no button)."""
    page = browser.get(f"{url}/sign/{consent_id}")
    assert page.status_code == 200, page.text
    fields = {**hidden_fields(page.text), "decision": "sign", "read": "1"}
    return browser.post(f"{url}/sign/{consent_id}", data=fields, follow_redirects=True)


def test_written_form_needs_a_fresh_confirmed_login_and_signs_a_document(stack):
    url, rt = stack
    op = signing_operator(rt)

    # an unconfirmed ESIA account: the page explains; a forced post is refused, nothing signed
    browser = cabinet(url, UNCONFIRMED_ADULT)
    cid = request_consent(url, rt, op, UNCONFIRMED_ADULT)
    page = browser.get(f"{url}/sign/{cid}")
    assert "не подтверждена" in page.text and 'value="sign"' not in page.text
    refused = _submit(browser, url, cid)
    assert refused.status_code == 403 and "подтверждённая учётная запись" in refused.text
    assert browser.get(f"{url}/api/v1/consents/{cid}").json()["state"] == "requested"
    browser.close()

    # a confirmed account whose login is two hours old: step-up first
    browser = cabinet(url, CONFIRMED_ADULT)
    cid = request_consent(url, rt, op, CONFIRMED_ADULT)
    _age_logins(rt, hours=2)
    page = browser.get(f"{url}/sign/{cid}")
    assert "Войти через Госуслуги ещё раз" in page.text and 'value="sign"' not in page.text
    step_up = re.search(r'href="(/login\?[^"]+)"', page.text).group(1).replace("&amp;", "&")
    assert "max_age=0" in step_up
    stale = _submit(browser, url, cid)
    assert stale.status_code == 403 and "ещё раз" in stale.text
    before = utcnow()
    login_fresh(browser, url, CONFIRMED_ADULT, f"/sign/{cid}", max_age=0)
    done = _submit(browser, url, cid)
    assert done.status_code == 200 and "Подписано" in done.text, done.text

    consent = browser.get(f"{url}/api/v1/consents/{cid}").json()
    assert consent["state"] == "given"
    (signature,) = consent["signatures"]
    assert signature["method"] == "esia:pwd" and signature["confirmed_account"] is True
    assert signature["acr"] == "urn:propusk:acr:esia:confirmed"
    fresh = datetime.fromisoformat(signature["auth_time"])  # ESIA's auth_time: whole seconds
    assert fresh >= before.replace(microsecond=0)  # the fresh login, not the old one
    given = next(e for e in consent["events"] if e["type"] == "given")
    assert given["to_state"] == "given"

    pdf_url = re.search(r'href="(/api/v1/consents/[^"]+\.pdf)"', done.text).group(1)
    pdf = browser.get(url + pdf_url)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(pdf.content).hexdigest() == signature["pdf_sha256"]
    text = _pdf_text(pdf.content)
    for element in (
        "Согласие на обработку биометрических персональных данных",
        "Волков Виктор",  # the subject
        op["org"],
        f"ИНН: {op['inn']}",
        "г. Казань, ул. Баумана, д. 1",
        "Идентификация участника аттестации по лицу",  # purpose (catalogue title)
        "Биометрический шаблон лица",  # data (catalogue title)
        "сбор, хранение, использование",
        "автоматизированная обработка",
        "365 дней со дня, когда согласие дано полностью",
        "В личном кабинете Пропуска",
        "биометрических персональных данных (шаблон",  # the template text itself
        "Способ входа: Госуслуги (ЕСИА), логин и пароль, время входа",
        "Проверить подлинность этого документа: " + url + "/verify",
        signature["document_sha256"],
    ):
        assert element in text, element
    assert not KEYS.search(text) and "esia:" not in text and "urn:" not in text  # no machine keys
    # the PDF is checked on the public page (no login); a changed byte is not ours
    checked = httpx.post(url + "/verify", files={"file": ("c.pdf", pdf.content)})
    assert checked.status_code == 200 and "Документ подлинный" in checked.text
    forged = pdf.content[:-20] + bytes(20)
    checked = httpx.post(url + "/verify", files={"file": ("c.pdf", forged)})
    assert checked.status_code == 422 and "не выдавал" in checked.text
    api = httpx.post(url + "/api/v1/consents/verify", json={"pdf_sha256": signature["pdf_sha256"]})
    assert api.json()["valid"] is True and api.json()["state"] == "given"
    browser.close()


def _age_logins(rt, hours: int) -> None:
    """Every login session began ``hours`` ago (as if the person logged in this morning)."""
    with session_scope(rt.sessionmaker) as s:
        s.execute(update(LoginSession).values(auth_time=utcnow() - timedelta(hours=hours)))


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_the_signing_page_refuses_forged_and_stale_posts(stack):
    url, rt = stack
    op = signing_operator(rt, form="any")
    browser = cabinet(url, CONFIRMED_ADULT)
    cid = request_consent(url, rt, op, CONFIRMED_ADULT)
    page = browser.get(f"{url}/sign/{cid}")
    fields = {**hidden_fields(page.text), "decision": "sign", "read": "1"}
    plain = {k: v for k, v in browser.headers.items() if k.lower() not in ("origin",)}
    evil = browser.post(
        f"{url}/sign/{cid}", data=fields, headers={**plain, "Origin": "https://evil.example"}
    )
    assert evil.status_code == 403 and "не со страницы Пропуска" in evil.text
    no_token = browser.post(f"{url}/sign/{cid}", data={**fields, "csrf_token": ""})
    assert no_token.status_code == 403
    changed = browser.post(f"{url}/sign/{cid}", data={**fields, "document_sha256": "0" * 64})
    assert changed.status_code == 409 and "Документ изменился" in changed.text
    assert browser.get(f"{url}/api/v1/consents/{cid}").json()["state"] == "requested"
    # a stranger's session cannot open someone else's request
    other = cabinet(url, UNCONFIRMED_ADULT)
    assert other.get(f"{url}/sign/{cid}").status_code == 403
    ok = browser.post(f"{url}/sign/{cid}", data=fields)
    assert ok.status_code == 303 and ok.headers["location"] == f"/sign/{cid}/result"
    result = browser.get(url + ok.headers["location"])
    assert result.status_code == 200 and "Подписано" in result.text
    assert browser.get(url + ok.headers["location"]).status_code == 200  # a reload re-sends nothing
    # nor its result, document, signed PDF or receipt
    (signed,) = browser.get(f"{url}/api/v1/consents/{cid}").json()["signatures"]
    pdf = f"{url}/api/v1/consents/{cid}/documents/{signed['document_id']}.pdf"
    assert browser.get(pdf).status_code == 200
    for path in (
        f"/sign/{cid}/result",
        f"/api/v1/consents/{cid}/document",
        pdf,
        f"/api/v1/consents/{cid}/receipt",
    ):
        assert other.get(path if path.startswith("http") else url + path).status_code == 403, path
    other.close()
    again = browser.post(f"{url}/sign/{cid}", data=fields)
    assert again.status_code == 409  # answered already
    browser.close()


def test_a_teenager_and_a_parent_sign_and_a_refusal_is_confirmed_first(stack):
    """14–17: the page says both sign; the teen signs, the parent refuses — on a second page,
    after being told it is final — and the result says the teen's signature no longer counts."""
    url, rt = stack
    op = signing_operator(rt, form="any")
    teen, parent = cabinet(url, TEEN), cabinet(url, TEENS_PARENT)
    cid = request_consent(url, rt, op, TEEN)
    page = teen.get(f"{url}/sign/{cid}")
    assert "каждый в своём входе через Госуслуги" in page.text
    assert _submit(teen, url, cid).status_code == 200
    page = parent.get(f"{url}/sign/{cid}")
    assert re.search(r"Волкова Полина[^<]* — участник, ", page.text)  # who signed, by name
    fields = {**hidden_fields(page.text), "decision": "refuse"}
    ask = parent.post(f"{url}/sign/{cid}", data=fields)
    assert ask.status_code == 200 and "Отказаться от согласия?" in ask.text
    assert "перестанут действовать" in ask.text
    assert parent.get(f"{url}/api/v1/consents/{cid}").json()["state"] == "partially_given"
    done = parent.post(f"{url}/sign/{cid}", data=hidden_fields(ask.text), follow_redirects=True)
    assert done.status_code == 200 and "Отказ принят" in done.text
    assert "больше не действуют" in done.text
    assert parent.get(f"{url}/api/v1/consents/{cid}").json()["state"] == "refused"
    teen.close()
    parent.close()
