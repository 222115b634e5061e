"""Obligation clocks on the Russian production calendar (New Year holidays, a transferred
working day, the Moscow receipt date), the overdue listing and CLI, and the one registry of
organisations shared with idp. SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from consent import obligations, parties
from consent.deadlines import MOSCOW
from consent.models import ObligationClock
from propusk.db import session_scope
from propusk.errors import Conflict
from tests.support.consent_world import World, ogrn13, org_fields, years_ago

PLATFORM = obligations.Registrar("person:admin", None)


def msk(*args) -> datetime:
    return datetime(*args, tzinfo=MOSCOW)


def _clocks(session, obligation) -> dict[str, ObligationClock]:
    stmt = select(ObligationClock).where(ObligationClock.obligation_id == obligation.id)
    return {c.name: c for c in session.scalars(stmt)}


def test_clocks_across_the_new_year_holidays(world: World):
    """Received Mon 29 Dec 2025: 31 Dec and 1–11 Jan 2026 are days off (9 Jan moved)."""
    h = world.h
    subject, _ = h.person(years_ago(30))
    received = msk(2025, 12, 29, 10, 0)
    with session_scope(h.runtime.sessionmaker) as s:
        stop = obligations.file_stop_processing(
            s, subject, subject, consent_id=None, operator_id=None, reason=None, now=received
        )
        rect = obligations.file_rectification(
            s,
            subject,
            subject,
            categories=["person.fullname"],
            operator_id=None,
            correction="опечатка в фамилии",
            proof="паспорт",
            now=received,
        )
        unlawful = obligations.record_unlawful(
            s,
            PLATFORM,
            subject_id=subject,
            categories=["education.grades"],
            operator_id=None,
            reason="проверка",
            now=received,
        )
        assert _clocks(s, stop)["stop"].due_date == date(2026, 1, 22)  # 10 WD
        assert _clocks(s, rect)["check"].due_date == date(2026, 1, 19)  # 7 WD
        u = _clocks(s, unlawful)
        assert (u["stop"].due_date, u["destroy"].due_date) == (date(2026, 1, 13), date(2026, 1, 22))
        assert _clocks(s, stop)["stop"].due_at == msk(2026, 1, 23, 0, 0)
        stop_id = stop.id
        # overdue exactly from the end of the due day (Moscow)
        before = obligations.overdue(s, msk(2026, 1, 22, 23, 59))
        after = obligations.overdue(s, msk(2026, 1, 23, 0, 0))
        assert str(stop_id) not in [r.get("obligation_id") for r in before]
        assert str(stop_id) in [r.get("obligation_id") for r in after]
        # +5 WD from the original due date; only within the period
        obligations.resolve(
            s, PLATFORM, stop_id, "extend", reason="нужны сведения", now=msk(2026, 1, 20, 9)
        )
        assert _clocks(s, stop)["stop"].due_date == date(2026, 1, 29)
        late = obligations.file_stop_processing(
            s, subject, subject, consent_id=None, operator_id=None, reason=None, now=received
        )
        with pytest.raises(Conflict):
            obligations.resolve(
                s, PLATFORM, late.id, "extend", reason="поздно", now=msk(2026, 1, 23, 1)
            )


def test_clock_counts_the_moscow_receipt_date_and_a_transferred_saturday(world: World):
    h = world.h
    subject, _ = h.person(years_ago(30))
    with session_scope(h.runtime.sessionmaker) as s:
        # 22:30 UTC on 29 Dec is 01:30 on 30 Dec in Moscow: the clock starts a day later
        late_evening = msk(2025, 12, 30, 1, 30)
        ob = obligations.file_stop_processing(
            s, subject, subject, consent_id=None, operator_id=None, reason=None, now=late_evening
        )
        assert _clocks(s, ob)["stop"].due_date == date(2026, 1, 23)
        # Sat 1 Nov 2025 was a working day; 3 and 4 Nov days off
        rkn = obligations.record_rkn_request(
            s,
            PLATFORM,
            received_at=msk(2025, 10, 30, 12),
            rkn_ref="РКН-1",
            summary="запрос",
            operator_id=None,
            now=msk(2025, 10, 30, 12),
        )
        assert _clocks(s, rkn)["answer"].due_date == date(2025, 11, 14)
        obligations.resolve(
            s, PLATFORM, rkn.id, "extend", reason="объём", now=msk(2025, 11, 10, 12)
        )
        assert _clocks(s, rkn)["answer"].due_date == date(2025, 11, 21)


def test_cli_overdue_lists_obligations(world: World, db_url, monkeypatch):
    from typer.testing import CliRunner

    from propusk.cli import app
    from propusk.settings import get_settings

    h = world.h
    with session_scope(h.runtime.sessionmaker) as s:
        rkn = obligations.record_rkn_request(
            s,
            PLATFORM,
            received_at=msk(2025, 10, 30, 12),
            rkn_ref="РКН-2",
            summary="запрос",
            operator_id=None,
            now=msk(2025, 10, 30, 12),
        )
        rkn_id = str(rkn.id)
    monkeypatch.setenv("PROPUSK_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        r = runner.invoke(app, ["consent", "overdue", "--on", "2025-11-14"])
        assert rkn_id not in r.output, r.output
        r = runner.invoke(app, ["consent", "overdue", "--on", "2025-11-15"])
        assert r.exit_code == 1, r.output
        (line,) = [x for x in r.output.splitlines() if x.startswith(rkn_id)]
        assert "kind=rkn_request" in line and "clock=answer" in line and "due=2025-11-14" in line
    finally:
        get_settings.cache_clear()


def test_registry_is_shared_with_idp(world: World):
    """A consent organisation exists in idp's registry under the same id (one org:<id>)."""
    from idp import schools

    h = world.h
    org = h.organization("operator", esia_org_oid="1000123456")
    with session_scope(h.runtime.sessionmaker) as s:
        row = schools.get_organization(s, uuid.UUID(org["id"]))
        assert row is not None
        assert (row.ogrn, row.kind, row.esia_org_oid) == (org["ogrn"], "operator", "1000123456")
        sup = schools.get_organization(s, uuid.UUID(world.sup["id"]))
        assert sup.kind == "supplier" and sup.ogrn == world.sup["ogrn"]
        # an organisation first known from ESIA (staff logins) is completed, not duplicated
        known = ogrn13()
        known_id = schools.register_operator_org(s, None, known, "ООО Из ЕСИА", kind="operator")
        as_supplier = ogrn13()
        supplier_id = schools.register_operator_org(
            s, None, as_supplier, "ООО Поставщик", kind="supplier"
        )
    r = h.client.post(
        "/api/v1/organizations",
        json=org_fields(name="ООО Из ЕСИА", inn="7707083893", ogrn=known),
        headers=h.admin(),
    )
    assert r.status_code == 201, r.text
    assert r.json()["id"] == str(known_id) and r.json()["inn"] == "7707083893"
    with session_scope(h.runtime.sessionmaker) as s:
        row = schools.get_organization(s, known_id)
        assert (row.inn, row.address) == ("7707083893", r.json()["address"])
    # registered for consent twice, or as the other kind: refused, nothing half-written
    again = h.client.post(
        "/api/v1/organizations",
        json=org_fields(name="ООО Повтор", inn="7707083893", ogrn=known),
        headers=h.admin(),
    )
    assert again.status_code == 409 and again.json()["type"].endswith("duplicate-ogrn")
    other_kind = h.client.post(
        "/api/v1/organizations",
        json=org_fields(name="ООО Поставщик", inn="7707083893", ogrn=as_supplier),
        headers=h.admin(),
    )
    assert other_kind.status_code == 409, other_kind.text
    with session_scope(h.runtime.sessionmaker) as s:
        assert schools.get_organization(s, known_id).name == "ООО Из ЕСИА"
        assert parties.get(s, supplier_id) is None  # no consent profile was written
    r = h.client.post(
        "/api/v1/organizations",
        json={**{k: org[k] for k in ("kind", "name")}, "esia_org_oid": "12ab"},
        headers=h.admin(),
    )
    assert r.status_code == 422


def test_extension_and_refusal_need_a_timely_reason(world: World):
    h = world.h
    with session_scope(h.runtime.sessionmaker) as s:
        rkn = obligations.record_rkn_request(
            s,
            PLATFORM,
            received_at=msk(2025, 10, 30, 12),
            rkn_ref="РКН-3",
            summary="запрос",
            operator_id=None,
            now=msk(2025, 10, 30, 12),
        )
        with pytest.raises(Conflict):  # the period ended on 14 Nov
            obligations.resolve(
                s, PLATFORM, rkn.id, "extend", reason="поздно", now=msk(2025, 11, 15, 9)
            )
        assert not _clocks(s, rkn)["answer"].extended
        assert _clocks(s, rkn)["answer"].due_at - timedelta(days=1) == msk(2025, 11, 14)


def test_concurrent_resolutions_serialise_on_the_row(world: World):
    """Two operators' staff close the same RKN request at once: one wins, the other gets a
    clear conflict (FOR UPDATE on the obligation; no duplicate event)."""
    import threading

    from consent.obligations import repository as obligations_repo
    from propusk.db import utcnow

    sm = world.h.runtime.sessionmaker
    with session_scope(sm) as s:
        if s.get_bind().dialect.name != "postgresql":
            pytest.skip("row locks are a PostgreSQL matter (SQLite serialises writers)")
        now = utcnow()
        ob_id = obligations.record_rkn_request(
            s,
            PLATFORM,
            received_at=now,
            rkn_ref="РКН-4",
            summary="запрос",
            operator_id=None,
            now=now,
        ).id
    first = sm()
    obligations.resolve(first, PLATFORM, ob_id, "answered", ref="исх. 1", now=utcnow())
    outcome: list[str] = []

    def second() -> None:
        with session_scope(sm) as s2:
            try:
                obligations.resolve(s2, PLATFORM, ob_id, "answered", ref="исх. 2", now=utcnow())
                outcome.append("answered")
            except Conflict:
                outcome.append("conflict")

    thread = threading.Thread(target=second)
    thread.start()
    _wait_until_someone_waits_on_a_lock(sm)
    first.commit()
    first.close()
    thread.join()
    assert outcome == ["conflict"]
    with session_scope(sm) as s:
        assert [e.type for e in obligations_repo.events(s, ob_id)] == ["opened", "answered"]


def _wait_until_someone_waits_on_a_lock(sm) -> None:
    """Synchronise (not a timing assertion): the second transaction is blocked on a lock."""
    import time

    from sqlalchemy import text

    query = text(
        "select count(*) from pg_stat_activity "
        "where wait_event_type = 'Lock' and datname = current_database()"
    )
    for _ in range(500):
        with session_scope(sm) as s:
            if s.scalar(query):
                return
        time.sleep(0.01)
