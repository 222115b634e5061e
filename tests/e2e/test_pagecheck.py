"""The page judge itself (``tests/e2e/pagecheck.py``): it names every kind of problem it is
for, and passes a plain Russian page with the addresses and abbreviations people read."""

from __future__ import annotations

import pytest

from tests.e2e.chromium import needs_chromium
from tests.e2e.pagecheck import PageProblems, check_page, english_words, machine_keys, watch

pytestmark = needs_chromium

PIXEL = "data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="
BAD = f"""<!doctype html><html lang="ru"><head><title>Кабинет</title></head><body><main>
<h1>Согласия</h1>
<p>Цель: attestation.online, отказ: no_consent. Loading…</p>
<div class="wide"><img src="{PIXEL}" width="900" height="10"></div>
<button></button>
<script>console.error("сбой сценария"); undefinedFunction();</script>
</main></body></html>"""
GOOD = """<!doctype html><html lang="ru"><head><title>Проверка</title></head><body><main>
<h1>Согласие подписано</h1>
<p>Документ PDF можно проверить на https://propusk.example/verify; вопросы — на
help@school17.example или через ESIA (Госуслуги), вход по OAuth.</p>
</main></body></html>"""


def test_every_kind_of_problem_is_named(browser):
    page = browser.new_page()
    watch(page)
    page.set_content(BAD)
    with pytest.raises(PageProblems) as found:
        check_page(page, "bad", widths=(390,))
    text = "\n".join(found.value.problems)
    assert "console error: сбой сценария" in text
    assert "page error: " in text and "undefinedFunction" in text
    assert "horizontal scroll" in text and "img" in text
    assert "machine key visible: 'attestation.online'" in text
    assert "machine key visible: 'no_consent'" in text
    assert "English visible: 'Loading'" in text
    assert "axe critical button-name" in text and "axe critical image-alt" in text
    page.close()


def test_a_plain_russian_page_passes(browser):
    page = browser.new_page()
    watch(page)
    page.set_content(GOOD)
    report = check_page(page, "good")
    assert [s.name for s in report.screenshots] == ["good-1280.png", "good-390.png"]
    assert all(s.exists() for s in report.screenshots)
    page.close()


def test_addresses_and_abbreviations_are_not_machine_keys_or_english():
    text = "Почта ivanov.petr@mail.ru, сайт school.example/parents, файл consent.pdf, PDF и ESIA"
    assert machine_keys(text) == [] and english_words(text) == []
    assert machine_keys("Данные: person.fullname; причина esia:pwd") == [
        "esia:pwd",
        "person.fullname",
    ]
    assert english_words("Статус: extended", frozenset()) == ["extended"]
