"""The public pages: the landing page (what Propusk is, who runs it, where each visitor goes)
and the processing policy (152-FZ art. 18.1 part 2), both in Russian, naming the operator from
the settings and the catalogue by its titles, every link leading somewhere."""

from __future__ import annotations

import re

import pytest

from consent.catalogue import load_catalogue
from consent.wording import legal_basis_text, sentence
from propusk.db import session_scope
from tests.support.page_text import codes_in, visible_text
from tests.support.settings import make_settings

OPERATOR = {
    "operator_name": "ГАУ «Проверочный центр цифровой образовательной среды»",
    "operator_inn": "5012345672",
    "operator_ogrn": "1027700000008",
    "operator_address": "170100, г. Тверь, ул. Советская, д. 3",
    "operator_email": "dpo@check.example",
    "operator_phone": "+7 (4822) 00-00-01",
    "dpo_contact": "Иванова Мария Петровна, ответственный за обработку данных",
}
HREF = re.compile(r'href="(/[^"#]*)"')


@pytest.fixture
def settings(db_url):
    return make_settings(db_url, **OPERATOR)


@pytest.fixture
def catalogue(runtime) -> None:
    with session_scope(runtime.sessionmaker) as s:
        load_catalogue(s)


def _links_lead_somewhere(client, html: str) -> set[str]:
    """Every local link of the page answers (a redirect to the login counts), none is dead."""
    links = set(HREF.findall(html))
    for link in links:
        r = client.get(link, follow_redirects=False)
        assert r.status_code in (200, 302, 303, 307), (link, r.status_code)
    return links


def test_landing_page_says_what_propusk_is_who_runs_it_and_where_to_go(client):
    r = client.get("/")
    assert r.status_code == 200
    text = visible_text(r.text)
    assert codes_in(text) == {}, codes_in(text)
    assert "цифровой образовательной среде" in text and "№ 649" in text
    for value in ("operator_name", "operator_inn", "operator_ogrn", "operator_address"):
        assert OPERATOR[value] in text, value
    assert OPERATOR["dpo_contact"] in text
    for audience in (
        "Ученикам и родителям",
        "Администраторам школ",
        "Прокторам",
        "Сотрудникам операторов и администратору платформы",
        "Проверить квитанцию",
        "Разработчикам",
    ):
        assert audience in text, audience
    assert "консоль школы" in text and "через Госуслуги" in text
    links = _links_lead_somewhere(client, r.text)
    assert {"/cabinet", "/policy", "/verify", "/docs"} <= links
    # one h1, then h2 sections and h3 cards: the headings outline the page
    assert r.text.count("<h1") == 1 and r.text.count("<h2") >= 2
    assert '<link rel="stylesheet" href="/static/landing.css">' in r.text


def test_policy_names_the_operator_and_the_catalogue_in_russian(client, catalogue):
    r = client.get("/policy")
    assert r.status_code == 200
    text = visible_text(r.text)
    assert codes_in(text) == {}, codes_in(text)
    for value in OPERATOR.values():
        assert value in text, value
    assert "ч. 2 ст. 18.1" in text and "Роскомнадзор" in text
    # the catalogue's purposes with their bases in Russian words, its categories by title
    for title in (
        "Проведение онлайн-аттестации по курсам ЦОС",
        "Идентификация участника аттестации по лицу",
        "Фамилия, имя, отчество",
        "Сведения об инвалидности и ОВЗ",
        "Биометрический шаблон лица",
    ):
        assert title in text, title
    assert sentence(legal_basis_text("written consent (152-FZ art. 11 part 1)")) in text
    assert "специальная категория" in text and "биометрические данные" in text
    # what the law asks of a policy: place, terms, rights, biometrics, minors, contacts
    for section in (
        "Место хранения",
        "Сроки обработки",
        "Права субъектов",
        "Биометрические персональные данные",
        "Несовершеннолетние",
        "С 14 до 18 лет согласие подписывают и сам обучающийся, и законный представитель",
        "территории Российской Федерации",
        "ст. 14",
        "ст. 21",
        "Контакты",
    ):
        assert section in text, section
    assert "Распечатать" in text and "data-print" in r.text
    assert '<link rel="stylesheet" href="/static/document.css">' in r.text
    assert "/cabinet" in _links_lead_somewhere(client, r.text)


def test_policy_without_a_catalogue_says_so(client):
    """A fresh instance (the catalogue not loaded yet) still publishes its policy."""
    r = client.get("/policy")
    assert r.status_code == 200
    assert OPERATOR["operator_name"] in r.text


def test_the_print_script_and_the_stylesheets_are_served(client):
    for path, kind in (
        ("/static/print.js", "javascript"),
        ("/static/document.css", "css"),
        ("/static/landing.css", "css"),
    ):
        r = client.get(path)
        assert r.status_code == 200 and kind in r.headers["content-type"], path
    css = client.get("/static/document.css").text
    assert "@media print" in css and "@page" in css
