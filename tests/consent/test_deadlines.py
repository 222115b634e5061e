"""Working-day deadlines on the Russian production calendar (holidays, moved days off and
transferred working Saturdays), and the art. 14 access request built on them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from consent import deadlines
from tests.support.consent_world import World, years_ago


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 11, 1), True),  # Saturday made a working day (transfer to 3 Nov)
        (date(2025, 11, 3), False),  # Monday, the day off moved from 1 Nov
        (date(2025, 11, 4), False),  # Unity Day
        (date(2025, 12, 31), False),  # day off moved from 5 Jan 2025
        (date(2026, 1, 9), False),  # day off moved from 3 Jan 2026
        (date(2026, 1, 12), True),
        (date(2026, 3, 9), False),  # 8 March falls on Sunday → Monday off
        (date(2026, 11, 25), True),
        (date(2026, 11, 28), False),  # an ordinary Saturday
    ],
)
def test_production_calendar(day, working):
    assert deadlines.is_working_day(day) is working


def test_add_working_days_across_new_year():
    # received 30 Dec 2025 (Tue): 31 Dec and 1–11 Jan are off; 10 WD → 23 Jan 2026
    assert deadlines.add_working_days(date(2025, 12, 30), 1) == date(2026, 1, 12)
    assert deadlines.add_working_days(date(2025, 12, 30), 10) == date(2026, 1, 23)


def test_add_working_days_counts_the_transferred_saturday():
    # received Thu 30 Oct 2025: Fri 31, Sat 1 Nov (working), Mon 3 and Tue 4 off, Wed 5 …
    assert deadlines.add_working_days(date(2025, 10, 30), 2) == date(2025, 11, 1)
    assert deadlines.add_working_days(date(2025, 10, 30), 3) == date(2025, 11, 5)
    assert deadlines.add_working_days(date(2025, 10, 30), 0) == date(2025, 10, 30)


def test_clock_starts_on_the_moscow_receipt_date():
    late_evening_utc = datetime(2025, 12, 30, 22, 30, tzinfo=UTC)  # 31 Dec, 01:30 in Moscow
    assert deadlines.receipt_date(late_evening_utc) == date(2025, 12, 31)
    assert deadlines.access_answer_due(late_evening_utc) == date(2026, 1, 23)
    assert deadlines.destruction_due(late_evening_utc) == date(2026, 1, 30)


def test_access_request_answer(world: World):
    h = world.h
    parent, (child,) = h.person(years_ago(40), children=(years_ago(12),))
    c = h.request(world.op_h, world.tpl["id"], child)
    h.act(parent, c["id"], "approve")
    h.relate(world.sup, child)  # the supplier is the child's school
    h.push(world.sup_h, child, "person.fullname", "Петров Ребёнок0")
    assert h.pull(world.op_h, child, "person.fullname").status_code == 200

    r = h.client.post(
        "/api/v1/me/access-requests",
        params={"subject": str(child)},
        headers=h.person_headers(parent),
    )
    assert r.status_code == 201, r.text
    req = r.json()
    received = datetime.fromisoformat(req["received_at"])
    assert (
        req["due_date"]
        == deadlines.add_working_days(deadlines.receipt_date(received), 10).isoformat()
    )

    answer = h.client.get(
        f"/api/v1/access-requests/{req['id']}", headers=h.person_headers(parent)
    ).json()
    assert answer["processing_confirmed"] is True
    assert answer["legal_bases_and_purposes"][0]["purpose"] == "attestation.online"
    assert answer["operators"][0]["ogrn"] == world.op["ogrn"]
    assert answer["recipients"][0]["categories"] == ["person.fullname"]
    assert answer["recipients"][0]["consent_ids"] == [c["id"]]
    assert answer["data_held"][0]["source"]["id"] == world.sup["id"]
    assert answer["periods"][0]["term_days"] == 365
    assert answer["processing_methods"] == ["automated"]
    assert answer["request"]["answered_at"]

    page = h.client.get(
        f"/api/v1/access-requests/{req['id']}.html", headers=h.person_headers(parent)
    )
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "ч. 7 ст. 14" in page.text
    assert world.op["name"] in page.text and "Фамилия, имя, отчество" in page.text
    assert "person.fullname" not in page.text  # the catalogue's title, never its key

    stranger, _ = h.person(years_ago(30))
    r = h.client.get(f"/api/v1/access-requests/{req['id']}", headers=h.person_headers(stranger))
    assert r.status_code == 403
    r = h.client.post(
        "/api/v1/me/access-requests",
        params={"subject": str(child)},
        headers=h.person_headers(stranger),
    )
    assert r.status_code == 403


def test_cli_catalogue_expire_overdue(db_url, monkeypatch):
    from typer.testing import CliRunner

    from propusk.cli import app
    from propusk.settings import get_settings

    monkeypatch.setenv("PROPUSK_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        r = runner.invoke(app, ["consent", "catalogue", "load"])
        assert r.exit_code == 0 and "10 categories, 5 purposes" in r.output, r.output
        r = runner.invoke(app, ["consent", "expire"])
        assert r.exit_code == 0 and r.output.startswith("expired:"), r.output
        r = runner.invoke(app, ["consent", "overdue", "--on", "2000-01-01"])
        assert r.exit_code == 0 and "overdue: 0" in r.output, r.output
        r = runner.invoke(app, ["consent", "overdue", "--on", "not-a-date"])
        assert r.exit_code != 0
    finally:
        get_settings.cache_clear()


def test_dissemination_consent_and_stop(world: World, runtime):
    """Art. 10.1: a separate consent with the subject's conditions; withdrawing it is a demand to
    stop dissemination within 3 working days."""
    h = world.h
    body = dict(
        key="publish.consent",
        purpose="achievements.publication",
        categories=["education.achievements"],
    )
    r = h.client.post("/api/v1/consent/templates", json=h.template_body(**body), headers=world.op_h)
    assert r.status_code == 422 and r.json()["type"].endswith("dissemination-conditions-required")
    tpl = h.template(world.op_h, conditions="Только ФИО и награды; без фотографий.", **body)
    assert tpl["conditions"].startswith("Только")
    subject, _ = h.person(years_ago(30))
    c = h.request(world.op_h, tpl["id"], subject)
    h.act(subject, c["id"], "approve")
    detail = h.client.get(f"/api/v1/consents/{c['id']}", headers=h.person_headers(subject)).json()
    given_at = datetime.fromisoformat(detail["given_at"])
    h.act(subject, c["id"], "withdraw")
    tasks = h.client.get("/api/v1/consent/destruction", headers=world.op_h).json()["tasks"]
    task = next(t for t in tasks if t["consent_id"] == c["id"])
    assert task["reason"] == "dissemination_stop"
    started = datetime.fromisoformat(task["started_at"])
    assert task["due_date"] == deadlines.dissemination_due(started).isoformat()
    assert deadlines.dissemination_due(given_at) == deadlines.add_working_days(
        deadlines.receipt_date(given_at), 3
    )
