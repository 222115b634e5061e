"""The art. 14 answer as a person reads it: a Russian document built from a lived-in ledger
(consents given, withdrawn and refused; transfers given and refused; vault values), Moscow
dates, names and titles instead of codes; the reasoned refusal likewise."""

from __future__ import annotations

import re

import pytest

from consent.wording import legal_basis_text
from tests.support.consent_world import Harness, years_ago
from tests.support.lived_in import OLYMPIAD, OPERATOR, SCHOOL, STATISTICS, lived_in
from tests.support.page_text import codes_in, visible_text
from tests.support.settings import make_settings

API = "/api/v1"
OPERATOR_NAME = "ГАУ «Центр цифрового образования Тверской области»"
DATE_TIME = re.compile(r"\b\d{2}\.\d{2}\.\d{4} \d{2}:\d{2} МСК\b")


@pytest.fixture
def settings(db_url):
    return make_settings(db_url, operator_name=OPERATOR_NAME, operator_inn="5012345672")


@pytest.fixture
def family(harness: Harness) -> dict:
    """A parent and their child under 14 whose data has lived (``tests/support/lived_in``)."""
    parent, (child,) = harness.person(years_ago(38), children=(years_ago(10),))
    seeded = lived_in(harness.runtime, child, parent)
    return {"parent": parent, "child": child, "headers": harness.person_headers(parent), **seeded}


def _ask(h: Harness, family: dict) -> str:
    r = h.client.post(
        f"{API}/me/access-requests",
        params={"subject": str(family["child"])},
        headers=family["headers"],
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_the_answer_page_is_a_russian_document_of_the_lived_in_ledger(harness, family):
    h = harness
    page = h.client.get(f"{API}/access-requests/{_ask(h, family)}.html", headers=family["headers"])
    assert page.status_code == 200, page.text
    assert '<link rel="stylesheet" href="/static/document.css">' in page.text
    assert '<script src="/static/print.js" defer></script>' in page.text
    text = visible_text(page.text)
    assert codes_in(text) == {}, codes_in(text)

    # who answers, about whom, when (Moscow time, «МСК»)
    assert OPERATOR_NAME in text and "5012345672" in text
    assert "Петров Ребёнок0" in text
    assert len(DATE_TIME.findall(text)) >= 6, text
    # consents named by purpose and operator, in every state, with Russian legal bases
    for words in (
        "Проведение онлайн-аттестации по курсам ЦОС",
        "Регистрация участника олимпиады",
        "Региональная статистика образования",
        OPERATOR,
        OLYMPIAD,
        STATISTICS,
        "действует",
        "отозвано",
        "отказано",
        "согласие субъекта персональных данных (п. 1 ч. 1 ст. 6, ст. 9 Федерального закона "
        "№ 152-ФЗ)",
        "Проведение онлайн-аттестации по курсам ЦОС — " + OPERATOR,
        "Автоматизированная обработка; смешанная обработка.",
    ):
        assert words in text, words
    # the data by catalogue title, its source, the transfers given and refused with reasons
    for words in (
        "Фамилия, имя, отчество",
        "Оценки и результаты аттестации",
        "Достижения (олимпиады, конкурсы)",
        SCHOOL,
        "Из Госуслуг (ЕСИА) при входе: фамилия, имя, отчество, дата рождения",
        "Запросы, по которым данные не переданы",
        "согласие отозвано",
        "в согласии отказано",
        "365 дн.",
    ):
        assert words in text, words
    assert "Распечатать" in text and 'href="/cabinet"' in page.text
    assert 'id="print"' in page.text and "data-print" in page.text


def test_the_json_answer_carries_the_titles_the_page_shows(harness, family):
    h = harness
    rid = _ask(h, family)
    answer = h.client.get(f"{API}/access-requests/{rid}", headers=family["headers"]).json()
    bases = {b["state"]: b for b in answer["legal_bases_and_purposes"]}
    assert set(bases) == {"given", "withdrawn", "refused"}
    given = bases["given"]
    assert given["consent_title"] == f"Проведение онлайн-аттестации по курсам ЦОС — {OPERATOR}"
    assert given["legal_basis_text"] == legal_basis_text(given["legal_basis"])
    assert given["state_title"] == "действует" and given["given_at"]
    assert {c["title"] for c in given["categories"]} == {
        "Фамилия, имя, отчество",
        "Оценки и результаты аттестации",
    }
    assert bases["withdrawn"]["ended_at"] and bases["withdrawn"]["state_title"] == "отозвано"
    # two transfers released data (before the withdrawal); two requests were refused
    assert sorted(r["operator"]["name"] for r in answer["recipients"]) == sorted(
        [OPERATOR, OLYMPIAD]
    )
    for r in answer["recipients"]:
        assert r["consent_titles"] and r["purpose_title"] and r["category_titles"]
    reasons = {
        r["operator_name"]: [c["reason_title"] for c in r["refused"]]
        for r in answer["refused_requests"]
    }
    assert reasons == {OLYMPIAD: ["согласие отозвано"], STATISTICS: ["в согласии отказано"]}
    assert {d["category_title"] for d in answer["data_held"]} == {
        "Фамилия, имя, отчество",
        "Оценки и результаты аттестации",
        "Достижения (олимпиады, конкурсы)",
    }
    assert answer["processing_method_titles"] == [
        "автоматизированная обработка",
        "смешанная обработка",
    ]
    assert answer["rights"] and all("ст." in r for r in answer["rights"])


def test_the_refusal_page_is_a_russian_document_too(harness, family):
    h = harness
    rid = _ask(h, family)
    mine = h.client.get(
        f"{API}/me/obligations", params={"subject": str(family["child"])}, headers=family["headers"]
    ).json()
    (ob,) = [o for o in mine["obligations"] if o["access_request_id"] == rid]
    reason = "заявитель не подтвердил полномочия законного представителя"
    r = h.client.post(
        f"{API}/obligations/{ob['id']}/actions",
        json={"action": "refuse", "reason": reason},
        headers=h.admin(),
    )
    assert r.status_code == 200, r.text
    page = h.client.get(f"{API}/access-requests/{rid}.html", headers=family["headers"])
    assert page.status_code == 200
    text = visible_text(page.text)
    assert codes_in(text) == {}, codes_in(text)
    assert reason in text and OPERATOR_NAME in text
    assert "Отказ в предоставлении сведений" in text and "Роскомнадзор" in text
    assert len(DATE_TIME.findall(text)) == 2, text
    assert "Распечатать" in text and 'href="/cabinet"' in page.text


def test_another_person_cannot_read_the_answer_page(harness, family):
    h = harness
    rid = _ask(h, family)
    stranger, _ = h.person(years_ago(30))
    page = h.client.get(f"{API}/access-requests/{rid}.html", headers=h.person_headers(stranger))
    assert page.status_code in (403, 404)
    assert OPERATOR not in page.text
