"""152-FZ obligations, checks 9–15 (consent.obligations) over HTTP, on SQLite and PostgreSQL.

Every transition is checked for its clocks (production calendar), its append-only events, its
audit record and its refusals (clear 4xx, nothing half-written)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select

from audit.service import events_for_subject
from consent import deadlines, obligations
from consent.models import Obligation
from consent.obligations.clocks import add_months
from propusk.db import session_scope, utcnow
from tests.support.consent_world import World, years_ago

API = "/api/v1"


def _given(world: World, categories=("person.fullname", "education.grades")):
    h = world.h
    subject, _ = h.person(years_ago(30))
    c = h.request(world.op_h, world.tpl["id"], subject, categories=list(categories))
    h.act(subject, c["id"], "approve")
    return subject, c


def _count(h, subject) -> int:
    with session_scope(h.runtime.sessionmaker) as s:
        stmt = select(func.count()).select_from(Obligation).where(Obligation.subject_id == subject)
        return s.scalar(stmt)


def _blocked(h, subject) -> set[str]:
    with session_scope(h.runtime.sessionmaker) as s:
        return obligations.blocked_categories(s, subject, utcnow())


def _active(h, subject, category) -> bool:
    from consent.gate import has_active_consent

    with session_scope(h.runtime.sessionmaker) as s:
        return has_active_consent(s, subject, category) is not None


def _audit_types(h, subject) -> list[str]:
    with session_scope(h.runtime.sessionmaker) as s:
        return [e.event_type for e in events_for_subject(s, f"person:{subject}")]


def _act(h, headers, obligation_id, expect=200, **body):
    r = h.client.post(f"{API}/obligations/{obligation_id}/actions", json=body, headers=headers)
    assert r.status_code == expect, r.text
    return r.json()


def _clock(view: dict, name: str) -> dict:
    return next(c for c in view["clocks"] if c["name"] == name)


def _wd_due(n: int) -> str:
    return deadlines.add_working_days(deadlines.receipt_date(utcnow()), n).isoformat()


def test_stop_processing_demand_extension_and_stop(world: World):
    """Check 9: suspended at once, due in 10 WD, +5 WD once only with a reasoned notice."""
    h = world.h
    subject, c = _given(world)
    me = h.person_headers(subject)
    r = h.client.post(
        f"{API}/me/obligations/stop-processing",
        json={"consent_id": c["id"], "reason": "прошу прекратить обработку"},
        headers=me,
    )
    assert r.status_code == 201, r.text
    ob = r.json()
    assert ob["kind"] == "stop_processing" and ob["operator_id"] == world.op["id"]
    assert _clock(ob, "stop")["due_date"] == _wd_due(10)
    # the gate refuses at once (the consent is suspended)
    pulled = h.pull(world.op_h, subject, "person.fullname")
    assert pulled.status_code == 403 and pulled.json()["refused"]["person.fullname"] == (
        "consent_suspended"
    )
    # the operator finds the demand in its work list; another operator does not
    work = h.client.get(f"{API}/obligations", headers=world.op_h).json()["obligations"]
    assert ob["id"] in [o["id"] for o in work]
    other = h.org_client(h.organization("operator")["id"], "operator")
    theirs = h.client.get(f"{API}/obligations", headers=other).json()["obligations"]
    assert ob["id"] not in [o["id"] for o in theirs]
    # an extension needs a reason; another operator cannot act on it
    _act(h, world.op_h, ob["id"], 422, action="extend")
    _act(h, other, ob["id"], 404, action="extend", reason="x")
    ext = _act(h, world.op_h, ob["id"], action="extend", reason="нужна проверка архивов")
    stop = _clock(ext, "stop")
    assert (
        stop["extended"]
        and stop["due_date"]
        == deadlines.add_working_days(
            deadlines.add_working_days(deadlines.receipt_date(utcnow()), 10), 5
        ).isoformat()
    )
    _act(h, world.op_h, ob["id"], 409, action="extend", reason="ещё раз")
    done = _act(h, world.op_h, ob["id"], action="stopped")
    assert done["status"] == "stopped" and done["closed_at"]
    assert _clock(done, "stop")["met_at"]
    _act(h, world.op_h, ob["id"], 409, action="stopped")
    work = h.client.get(f"{API}/obligations", headers=world.op_h).json()["obligations"]
    assert ob["id"] not in [o["id"] for o in work]
    assert [e["type"] for e in done["events"]] == ["opened", "extend", "stopped"]
    assert done["events"][1]["reason"] == "нужна проверка архивов"
    assert done["events"][1]["actor"].startswith("client:")
    # the participant sees the demand and the extension notice
    mine = h.client.get(f"{API}/me/obligations", headers=me).json()
    assert [o["id"] for o in mine["obligations"]] == [ob["id"]]
    assert any("Срок продлён до" in n["text"] for n in mine["notices"])
    types = _audit_types(h, subject)
    assert {"consent.obligation.opened", "consent.obligation.extend"} <= set(types)
    assert "consent.obligation.stopped" in types


def test_stop_processing_bad_input_writes_nothing(world: World):
    h = world.h
    subject, c = _given(world)
    stranger, _ = h.person(years_ago(30))
    me = h.person_headers(subject)
    url = f"{API}/me/obligations/stop-processing"
    assert h.client.post(url, json={"consent_id": str(uuid.uuid4())}, headers=me).status_code == 404
    r = h.client.post(url, json={"operator_id": world.sup["id"]}, headers=me)
    assert r.status_code == 422 and r.json()["type"].endswith("unknown-operator")
    assert h.client.post(url, json={"bogus": 1}, headers=me).status_code == 422
    assert h.client.post(url, json={"reason": "a\x00b"}, headers=me).status_code == 400
    # someone else's consent, or for someone else
    r = h.client.post(url, json={"consent_id": c["id"]}, headers=h.person_headers(stranger))
    assert r.status_code == 404
    r = h.client.post(
        url, json={}, params={"subject": str(subject)}, headers=h.person_headers(stranger)
    )
    assert r.status_code == 403
    assert h.client.post(url, json={}).status_code == 401
    assert _count(h, subject) == 0
    assert h.pull(world.op_h, subject, "person.fullname").status_code == 200


def test_access_request_extension_and_reasoned_refusal(world: World):
    """Check 10: +5 WD with a reasoned notice; a reasoned refusal within the period."""
    h = world.h
    parent, (child,) = h.person(years_ago(40), children=(years_ago(10),))
    ph = h.person_headers(parent)
    r = h.client.post(f"{API}/me/access-requests", params={"subject": str(child)}, headers=ph)
    assert r.status_code == 201
    req = r.json()
    mine = h.client.get(f"{API}/me/obligations", params={"subject": str(child)}, headers=ph)
    (ob,) = [o for o in mine.json()["obligations"] if o["access_request_id"] == req["id"]]
    assert _clock(ob, "answer")["due_date"] == req["due_date"] == _wd_due(10)
    # the platform (ЦОС operator) answers access requests; an operator client cannot
    _act(h, world.op_h, ob["id"], 404, action="refuse", reason="x")
    _act(h, h.admin(), ob["id"], 422, action="refuse")
    _act(h, h.admin(), ob["id"], 422, action="stopped")
    ext = _act(h, h.admin(), ob["id"], action="extend", reason="запрос сведений у поставщика")
    new_due = _clock(ext, "answer")["due_date"]
    refused = _act(
        h, h.admin(), ob["id"], action="refuse", reason="заявитель не подтвердил полномочия"
    )
    assert refused["status"] == "refused"
    ans = h.client.get(f"{API}/access-requests/{req['id']}", headers=ph).json()
    assert ans["refused"] is True and ans["refusal_reason"] == "заявитель не подтвердил полномочия"
    html = h.client.get(f"{API}/access-requests/{req['id']}.html", headers=ph)
    assert html.status_code == 200 and "заявитель не подтвердил полномочия" in html.text
    with session_scope(h.runtime.sessionmaker) as s:
        from consent import repository

        row = repository.get_access_request(s, uuid.UUID(req["id"]))
        assert row.extended_due_date.isoformat() == new_due and row.status == "refused"

    # answering meets the clock; a refusal after the answer is refused
    r = h.client.post(f"{API}/me/access-requests", params={"subject": str(child)}, headers=ph)
    rid = r.json()["id"]
    assert h.client.get(f"{API}/access-requests/{rid}", headers=ph).status_code == 200
    mine = h.client.get(f"{API}/me/obligations", params={"subject": str(child)}, headers=ph)
    (ob2,) = [o for o in mine.json()["obligations"] if o["access_request_id"] == rid]
    assert ob2["status"] == "answered" and _clock(ob2, "answer")["met_at"]
    _act(h, h.admin(), ob2["id"], 409, action="refuse", reason="поздно")


def test_rectification_blocks_during_the_check(world: World):
    """Check 11: blocked at once for 7 WD; rejected needs a reason; resolution unblocks."""
    h = world.h
    parent, (child,) = h.person(years_ago(40), children=(years_ago(15),))
    ph = h.person_headers(parent)
    url = f"{API}/me/obligations/rectification"
    body = {
        "categories": ["education.grades"],
        "correction": "оценка за четверть указана неверно",
        "proof": "справка школы № 12 от 01.11.2026",
    }
    # bad input first: nothing written, nothing blocked
    for bad in (
        {**body, "categories": ["no.such_category"]},
        {**body, "categories": []},
        {k: v for k, v in body.items() if k != "proof"},
        {**body, "proof": ""},
        {**body, "operator_id": str(uuid.uuid4())},
    ):
        r = h.client.post(url, json=bad, params={"subject": str(child)}, headers=ph)
        assert r.status_code == 422, (bad, r.text)
    assert _count(h, child) == 0 and _blocked(h, child) == set()

    r = h.client.post(url, json=body, params={"subject": str(child)}, headers=ph)
    assert r.status_code == 201, r.text
    ob = r.json()
    assert _clock(ob, "check")["due_date"] == _wd_due(7)
    assert _blocked(h, child) == {"education.grades"}
    assert [e["type"] for e in ob["events"]] == ["opened", "blocked"]
    _act(h, h.admin(), ob["id"], 422, action="rejected")
    done = _act(h, h.admin(), ob["id"], action="rejected", reason="сведения подтверждены журналом")
    assert done["status"] == "rejected" and _clock(done, "check")["met_at"]
    assert _blocked(h, child) == set()

    # a block also stops the subject's own processing under a given consent (has_active_consent)
    c = h.request(world.op_h, world.tpl["id"], child, categories=["education.grades"])
    h.act(parent, c["id"], "approve")
    h.act(child, c["id"], "approve")
    assert _active(h, child, "education.grades")
    r = h.client.post(url, json=body, params={"subject": str(child)}, headers=ph)
    ob = r.json()
    assert _blocked(h, child) == {"education.grades"}
    assert not _active(h, child, "education.grades")
    assert _act(h, h.admin(), ob["id"], action="rectified")["status"] == "rectified"
    assert _blocked(h, child) == set()
    assert _active(h, child, "education.grades")


def test_unlawful_processing_block_stop_destroy_notify(world: World):
    """Check 12: block at once, stop 3 WD, destroy 10 WD; the subject is notified."""
    h = world.h
    subject, _ = _given(world)
    url = f"{API}/obligations/unlawful"
    body = {
        "subject_id": str(subject),
        "categories": ["education.grades"],
        "reason": "обработка сверх целей согласия",
    }
    assert h.client.post(url, json=body, headers=h.person_headers(subject)).status_code == 403
    assert h.client.post(url, json=body, headers=world.sup_h).status_code == 403
    r = h.client.post(url, json={**body, "subject_id": str(uuid.uuid4())}, headers=world.op_h)
    assert r.status_code == 422
    r = h.client.post(url, json={**body, "categories": ["x.y"]}, headers=world.op_h)
    assert r.status_code == 422
    assert _count(h, subject) == 0

    r = h.client.post(url, json=body, headers=world.op_h)
    assert r.status_code == 201, r.text
    ob = r.json()
    assert ob["operator_id"] == world.op["id"]
    assert _clock(ob, "stop")["due_date"] == _wd_due(3)
    assert _clock(ob, "destroy")["due_date"] == _wd_due(10)
    assert _blocked(h, subject) == {"education.grades"}
    mine = h.client.get(f"{API}/me/obligations", headers=h.person_headers(subject)).json()
    assert any("неправомерная обработка" in n["text"] for n in mine["notices"])

    _act(h, world.op_h, ob["id"], 422, action="results_sent", ref="x")
    stopped = _act(h, world.op_h, ob["id"], action="stopped")
    assert _clock(stopped, "stop")["met_at"] and not _clock(stopped, "destroy")["met_at"]
    assert _blocked(h, subject) == {"education.grades"}
    _act(h, world.op_h, ob["id"], 422, action="destroyed")
    done = _act(h, world.op_h, ob["id"], action="destroyed", ref="акт № 7 от 25.11.2026")
    assert done["status"] == "destroyed" and _blocked(h, subject) == set()
    mine = h.client.get(f"{API}/me/obligations", headers=h.person_headers(subject)).json()
    assert any("уничтожены" in n["text"] for n in mine["notices"])
    assert "consent.obligation.destroyed" in _audit_types(h, subject)


def _act_body() -> dict:
    return {
        "destroyed_on": utcnow().date().isoformat(),
        "method": "удаление записей из БД с перезаписью",
        "performed_by": [{"name": "Иванов И. И.", "position": "администратор БД"}],
        "carriers": "БД propusk, ЦОД Москва-1",
        "log_extract_ref": "выгрузка журнала № 15",
    }


def test_destruction_impossible_blocks_and_needs_the_order_179_act(world: World):
    """Check 13: block, destroy within 6 months, confirmation records the act."""
    h = world.h
    subject, c = _given(world)
    h.act(subject, c["id"], "withdraw")
    tasks = h.client.get(f"{API}/consent/destruction", headers=world.op_h).json()["tasks"]
    (task,) = [t for t in tasks if t["consent_id"] == c["id"]]
    url = f"{API}/destruction/{task['id']}/impossible"
    assert h.client.post(url, json={}, headers=world.op_h).status_code == 422
    other = h.org_client(h.organization("operator")["id"], "operator")
    assert h.client.post(url, json={"reason": "x"}, headers=other).status_code == 404
    r = h.client.post(url, json={"reason": "данные в резервных копиях"}, headers=world.op_h)
    assert r.status_code == 201, r.text
    ob = r.json()
    due = add_months(deadlines.receipt_date(utcnow()), 6)
    assert _clock(ob, "destroy")["due_date"] == due.isoformat()
    assert _blocked(h, subject) == set(c["categories"])
    assert h.client.post(url, json={"reason": "again"}, headers=world.op_h).status_code == 409

    _act(h, world.op_h, ob["id"], 422, action="destroyed")
    partial = {k: v for k, v in _act_body().items() if k != "log_extract_ref"}
    _act(h, world.op_h, ob["id"], 422, action="destroyed", act=partial)
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    _act(
        h,
        world.op_h,
        ob["id"],
        422,
        action="destroyed",
        act={**_act_body(), "destroyed_on": tomorrow},
    )
    assert _blocked(h, subject) == set(c["categories"])
    done = _act(h, world.op_h, ob["id"], action="destroyed", act=_act_body())
    act = done["details"]["act"]
    assert act["operator"]["name"] == world.op["name"]
    assert act["subject"]["name"].startswith("Петрова")
    assert act["categories"] == c["categories"]
    assert act["performed_by"][0]["position"] == "администратор БД"
    assert _blocked(h, subject) == set()
    tasks = h.client.get(f"{API}/consent/destruction", headers=world.op_h).json()["tasks"]
    assert task["id"] not in [t["id"] for t in tasks]


def test_add_months_clamps():
    from datetime import date

    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2026, 12, 15), 6) == date(2027, 6, 15)


def test_incident_24h_72h_and_overdue(world: World):
    """Check 14: RKN within 24 h, results within 72 h of detection; overdue listing."""
    h = world.h
    url = f"{API}/obligations/incidents"
    future = (utcnow() + timedelta(days=1)).isoformat()
    body = {"detected_at": future, "description": "утечка выгрузки оценок"}
    assert h.client.post(url, json=body, headers=world.op_h).status_code == 422
    naive = {**body, "detected_at": "2026-11-01T10:00:00"}
    assert h.client.post(url, json=naive, headers=world.op_h).status_code == 422
    detected = utcnow() - timedelta(hours=30)
    r = h.client.post(url, json={**body, "detected_at": detected.isoformat()}, headers=world.op_h)
    assert r.status_code == 201, r.text
    ob = r.json()
    notice, results = _clock(ob, "rkn_notice"), _clock(ob, "results")
    assert datetime.fromisoformat(notice["due_at"]) == detected + timedelta(hours=24)
    assert datetime.fromisoformat(results["due_at"]) == detected + timedelta(hours=72)

    late = h.client.get(f"{API}/obligations/overdue", headers=world.op_h).json()["overdue"]
    assert [
        (x["obligation_id"], x["clock"]) for x in late if x.get("obligation_id") == ob["id"]
    ] == [(ob["id"], "rkn_notice")]
    other = h.org_client(h.organization("operator")["id"], "operator")
    theirs = h.client.get(f"{API}/obligations/overdue", headers=other).json()["overdue"]
    assert ob["id"] not in [x.get("obligation_id") for x in theirs]
    everyone = h.client.get(f"{API}/obligations/overdue", headers=h.admin()).json()["overdue"]
    assert ob["id"] in [x.get("obligation_id") for x in everyone]
    assert h.client.get(f"{API}/obligations/overdue", headers=world.sup_h).status_code == 403

    _act(h, world.op_h, ob["id"], 409, action="results_sent", ref="отчёт")
    _act(h, world.op_h, ob["id"], 422, action="rkn_notified")
    _act(h, world.op_h, ob["id"], action="rkn_notified", ref="уведомление РКН № 1")
    late = h.client.get(f"{API}/obligations/overdue", headers=world.op_h).json()["overdue"]
    assert ob["id"] not in [x.get("obligation_id") for x in late]
    # 72 h later the results clock is overdue (service clock, same rows)
    with session_scope(h.runtime.sessionmaker) as s:
        later = obligations.overdue(s, detected + timedelta(hours=73), uuid.UUID(world.op["id"]))
        assert [
            (x["obligation_id"], x["clock"]) for x in later if x.get("obligation_id") == ob["id"]
        ] == [(ob["id"], "results")]
    done = _act(h, world.op_h, ob["id"], action="results_sent", ref="отчёт о расследовании")
    assert done["status"] == "results_sent" and done["closed_at"]
    assert h.client.get(f"{API}/obligations/{ob['id']}", headers=other).status_code == 404
    got = h.client.get(f"{API}/obligations/{ob['id']}", headers=world.op_h).json()
    assert [e["type"] for e in got["events"]] == ["opened", "rkn_notified", "results_sent"]


def test_rkn_request_10_plus_5_working_days(world: World):
    """Check 15: answer within 10 WD of receipt; +5 WD with a reasoned notice."""
    h = world.h
    url = f"{API}/obligations/rkn-requests"
    body = {"received_at": utcnow().isoformat(), "rkn_ref": "РКН-77-1234", "summary": "запрос"}
    assert h.client.post(url, json={**body, "rkn_ref": ""}, headers=h.admin()).status_code == 422
    r = h.client.post(url, json={**body, "operator_id": world.op["id"]}, headers=h.admin())
    assert r.status_code == 201, r.text
    ob = r.json()
    assert ob["operator_id"] == world.op["id"] and _clock(ob, "answer")["due_date"] == _wd_due(10)
    ext = _act(h, world.op_h, ob["id"], action="extend", reason="нужны сведения поставщика")
    assert _clock(ext, "answer")["extended"]
    _act(h, world.op_h, ob["id"], 422, action="answered")
    done = _act(h, world.op_h, ob["id"], action="answered", ref="исх. № 55")
    assert done["status"] == "answered" and _clock(done, "answer")["met_at"]
    assert done["events"][-1]["payload"]["ref"] == "исх. № 55"
    r = h.client.post(
        f"{API}/obligations/{uuid.uuid4()}/actions", json={"action": "answered"}, headers=h.admin()
    )
    assert r.status_code == 404
    r = h.client.post(
        f"{API}/obligations/{ob['id']}/actions", json={"action": "nope"}, headers=h.admin()
    )
    assert r.status_code == 422


def test_the_gate_refuses_blocked_categories(world: World):
    """Checks 11/12: while a block holds, the gate refuses the blocked categories."""
    h = world.h
    subject, _ = _given(world)
    body = {"categories": ["education.grades"], "correction": "ошибка", "proof": "справка"}
    r = h.client.post(
        f"{API}/me/obligations/rectification", json=body, headers=h.person_headers(subject)
    )
    assert r.status_code == 201
    pulled = h.pull(world.op_h, subject, "person.fullname,education.grades")
    assert pulled.json()["allowed"] == ["person.fullname"]
    assert "education.grades" in pulled.json()["refused"]
