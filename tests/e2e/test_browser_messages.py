"""Failures read Russian in a real browser (Debian Chromium via Playwright): the pages' scripts
turn real problem answers into the catalogue's sentences (``propusk.messages`` served by
``GET /api/v1/messages``, read by ``static/api.js``), never into the English ``detail``.
"""

from __future__ import annotations

import re
import uuid

import pytest

from propusk.messages import validation_text
from propusk.messages.problems import PROBLEMS, STATUSES
from tests.e2e.chromium import needs_chromium
from tests.e2e.people import DIRECTOR

pytestmark = needs_chromium

LATIN = re.compile(r"[A-Za-z]{2,}")

# In the page: a failing call through propuskFetch, read by propuskProblemText (api.js).
CALL = """async ([path, method, body]) => {
  const options = { method };
  if (body !== null) {
    options.headers = { "Content-Type": "application/json" };
    options.body = JSON.stringify(body);
  }
  const r = await propuskFetch(path, options);
  const answer = await r.json();
  const each = Array.isArray(answer.errors) ? answer.errors.map(propuskValidationText) : [];
  return { status: r.status, body: answer, text: propuskProblemText(answer, r.status), each };
}"""


@pytest.fixture(scope="module")
def director(demo_site, browser):
    """The school No. 17 director logged in; page errors and console errors collected."""
    url, _ = demo_site
    context = browser.new_context()
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    # a refused request logs «Failed to load resource»: that is the point here, not an error
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    page.goto(url + "/cabinet")
    page.click(f'button[data-oid="{DIRECTOR}"]')
    page.wait_for_url(url + "/cabinet")
    yield url, page, errors
    context.close()


def _russian(text: str) -> None:
    assert re.search(r"[А-Яа-яЁё]", text) and not LATIN.search(text), text


def test_the_school_console_shows_a_refusal_in_russian(director):
    url, page, errors = director
    page.goto(f"{url}/school/{uuid.uuid4()}")  # a school the director does not run
    page.wait_for_selector("#school-name .error")
    assert page.inner_text("#school-name") == PROBLEMS["forbidden"]
    assert errors == []


def test_problem_answers_become_the_catalogue_sentences(director):
    url, page, errors = director
    page.goto(f"{url}/school/{uuid.uuid4()}")
    page.wait_for_selector("#school-name .error")

    bad = {"categories": [], "correction": "", "proof": "есть", "colour": "red"}
    r = page.evaluate(CALL, ["/api/v1/me/obligations/rectification", "POST", bad])
    assert r["status"] == 422
    python = [validation_text(e) for e in r["body"]["errors"]]
    assert r["each"] == python  # the page and the server read the same catalogue alike
    assert "В поле «Категории данных» выберите хотя бы одно значение." in r["text"]
    assert "Заполните поле «Верные сведения»." in r["text"]
    assert "В запросе есть лишнее поле." in r["text"]
    _russian(r["text"])

    r = page.evaluate(CALL, ["/api/v1/me/applications/nobody", "DELETE", None])
    assert r["status"] == 404 and r["body"]["type"].endswith("/unknown-application")
    assert r["text"] == PROBLEMS["unknown-application"]

    r = page.evaluate(CALL, ["/api/v1/no/such/route", "GET", None])
    assert r["status"] == 404 and r["text"] == PROBLEMS["http-404"]
    assert errors == []


def test_the_exam_pages_show_failures_in_russian(director):
    url, page, errors = director
    exam = uuid.uuid4()
    page.goto(f"{url}/exams/{exam}/proctor")
    page.wait_for_selector("#session .error")
    _russian(page.inner_text("#session"))

    page.goto(f"{url}/exams/{exam}/take")
    before = page.inner_text("#status")
    page.click("#start")
    page.wait_for_function(
        "([before]) => document.getElementById('status').textContent !== before", arg=[before]
    )
    shown = page.inner_text("#status")
    assert shown in {*PROBLEMS.values(), *STATUSES.values()}, shown
    assert errors == []


def test_the_school_console_reads_russian_for_its_own_school(director):
    """The profile and the people read Russian; a refused roster names its lines, columns and
    values in Russian."""
    url, page, errors = director
    page.goto(url + "/cabinet")
    page.click("#profile a[href^='/school/']")
    page.wait_for_selector("#people table")
    for section in ("#profile", "#people"):
        _russian(page.inner_text(section))
    csv = (
        "role,last_name,first_name,middle_name,birth_date,snils,class\n"
        "student,Иванов,Иван,,30.02.2014,,5А\n"  # no such day
        "student,Иванов,Иван,,2014-02-01,123,5А\n"  # a SNILS of three digits
    )
    roster = {"name": "roster.csv", "mimeType": "text/csv", "buffer": csv.encode()}
    page.set_input_files("#roster-file", roster)
    page.click("#roster-check")
    page.wait_for_selector("#roster-errors li")
    result = page.inner_text("#roster-result")
    assert "строка 2: дата рождения «30.02.2014» — такой даты нет" in result
    assert "строка 3: СНИЛС «123» указан с ошибкой" in result
    _russian(result)
    assert errors == []
