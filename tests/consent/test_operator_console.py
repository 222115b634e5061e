"""The operator staff's console over HTTP (``consent.routes.staff``, ``idp.staff_routes``).

Staff are real ESIA logins (``idp.login.on_login`` with the organisation in ``/roles``): their
``operator_staff`` / ``operator_head`` statuses reach the policy engine as they do in
production. Adversaries first: every route as another operator's staff (B's org id in the path,
B's ids in A's path), a school admin, the platform admin, an operator client, a relying party
holding the staff member's token, a student, an anonymous caller.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from audit.models import AuditEvent
from consent import repository as consent_repo
from consent.models import Transfer, WithdrawalAck
from idp.login import on_login
from idp.statuses import role_grants
from idp.upstream import UpstreamOrgRole
from propusk.db import session_scope, utcnow
from propusk.security import Principal, RoleGrant
from tests.idp import factories as f
from tests.support.consent_world import Harness, esia_auth, years_ago

pytestmark = pytest.mark.usefixtures("db_url")


@dataclass
class Org:
    org: dict
    client: dict  # the operator OAuth client's headers
    tpl: dict
    subject: uuid.UUID
    consent_id: str
    staff: uuid.UUID
    head: uuid.UUID

    @property
    def id(self) -> str:
        return self.org["id"]


def _login(h: Harness, org: dict, *, chief: bool = False, snils: str | None = None) -> uuid.UUID:
    role = UpstreamOrgRole(org_oid=f.oid(), ogrn=org["ogrn"], name=org["name"], chief=chief)
    ident = f.identity(organizations=(role,), snils_value=snils)
    with session_scope(h.runtime.sessionmaker) as s:
        return on_login(s, ident, settings=h.runtime.settings).id


def as_person(h: Harness, person_id: uuid.UUID) -> dict:
    return h.page_person(person_id)


def _operator(h: Harness) -> Org:
    org = h.organization("operator")
    client = h.org_client(org["id"], "operator")
    tpl = h.template(client)
    subject, _ = h.person(years_ago(30))
    consent = h.request(client, tpl["id"], subject)
    h.act(subject, consent["id"], "approve")
    h.act(subject, consent["id"], "withdraw")
    return Org(org, client, tpl, subject, consent["id"], _login(h, org), _login(h, org, chief=True))


@pytest.fixture
def two(harness: Harness) -> tuple[Harness, Org, Org]:
    return harness, _operator(harness), _operator(harness)


def base(org_id: str) -> str:
    return f"/api/v1/operators/{org_id}"


def _ids(h: Harness, o: Org) -> dict:
    """The event, task and template ids of the operator, as its own staff read them."""
    me = as_person(h, o.staff)
    event = h.client.get(f"{base(o.id)}/withdrawals", headers=me).json()["withdrawals"][0]["id"]
    task = h.client.get(f"{base(o.id)}/destruction", headers=me).json()["tasks"][0]["id"]
    return {"event": event, "task": task, "tpl": o.tpl["id"]}


def _routes(org_id: str, ids: dict) -> list[tuple[str, str, dict | None]]:
    b = base(org_id)
    return [
        ("GET", b, None),
        ("GET", f"{b}/templates", None),
        ("GET", f"{b}/templates/{ids['tpl']}", None),
        ("POST", f"{b}/templates", {"key": "attestation.consent"}),
        ("GET", f"{b}/consents", None),
        ("GET", f"{b}/withdrawals", None),
        ("POST", f"{b}/withdrawals/{ids['event']}/acknowledge", None),
        ("GET", f"{b}/destruction", None),
        ("POST", f"{b}/destruction/{ids['task']}/confirm", None),
        ("POST", f"{b}/destruction/{ids['task']}/impossible", {"reason": "резервные копии"}),
        ("GET", f"{b}/transfers/stats", None),
        ("GET", f"/api/v1/organizations/{org_id}/staff", None),
        ("POST", f"/api/v1/organizations/{org_id}/staff", {"snils": f.snils()}),
        ("DELETE", f"/api/v1/organizations/{org_id}/staff/{uuid.uuid4()}", None),
    ]


def _audited(h: Harness, event_type: str, actor: str) -> list[dict]:
    """The bodies of the audit events of this type by this actor."""
    with session_scope(h.runtime.sessionmaker) as s:
        rows = s.scalars(
            select(AuditEvent).where(AuditEvent.event_type == event_type, AuditEvent.actor == actor)
        )
        return [json.loads(r.leaf)["body"] for r in rows]


def _call(h: Harness, method: str, path: str, body, headers):
    return h.client.request(method, path, json=body, headers=headers)


def _untouched(h: Harness, o: Org, ids: dict) -> None:
    with session_scope(h.runtime.sessionmaker) as s:
        task = consent_repo.get_destruction_task(s, uuid.UUID(ids["task"]))
        assert task.confirmed_at is None
        assert s.get(WithdrawalAck, uuid.UUID(ids["event"])) is None


# --- adversaries first ------------------------------------------------------------------------


def test_another_operators_staff_and_head_are_refused_on_its_org(two):
    """A's staff and A's head in B's console: 403 before any lookup, whatever the ids."""
    h, a, b = two
    b_ids = _ids(h, b)
    for who in (a.staff, a.head):
        for method, path, body in _routes(b.id, b_ids):
            r = _call(h, method, path, body, as_person(h, who))
            assert r.status_code == 403, (method, path, r.status_code, r.text)
            assert b.org["name"] not in r.text
    _untouched(h, b, b_ids)


def test_another_operators_ids_in_ones_own_path_are_unknown(two):
    """A's staff with B's template, withdrawal and task ids in A's path: 404, nothing read or
    changed (the same answer as a random id: no oracle)."""
    h, a, b = two
    b_ids = _ids(h, b)
    me = as_person(h, a.staff)
    for method, path, body in _routes(a.id, b_ids):
        if "/staff" in path or not any(v in path for v in b_ids.values()):
            continue
        r = _call(h, method, path, body, me)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
        fresh = path
        for v in b_ids.values():
            fresh = fresh.replace(v, str(uuid.uuid4()))
        assert _call(h, method, fresh, body, me).json()["type"] == r.json()["type"]
    _untouched(h, b, b_ids)
    # and A's lists hold nothing of B's
    for path in ("/templates", "/consents", "/withdrawals", "/destruction?open=false"):
        text = h.client.get(base(a.id) + path, headers=me).text
        assert b.tpl["id"] not in text and b.consent_id not in text and str(b.subject) not in text


def test_people_without_the_status_clients_and_tokens_are_refused(two):
    """A school admin, a student, the platform admin (outside the templates it reads
    anyway), A's operator client, a relying party holding A's staff member's token, and an
    anonymous caller."""
    h, a, _ = two
    ids = _ids(h, a)
    school = f"school:{uuid.uuid4()}"
    school_admin = h.token_for(
        Principal(
            kind="person",
            subject=f"person:{uuid.uuid4()}",
            person_id=uuid.uuid4(),
            roles=(RoleGrant("school_admin", school), RoleGrant("teacher", school)),
            channel="session",
            auth=esia_auth(),
        )
    )
    callers = {
        "school admin": school_admin,
        "student": h.person_headers(a.subject),
        "operator client": a.client,
        "relying party": h.relying_party(a.staff, {"consents", "transfers", "profile"}),
        "platform admin": h.admin(),
    }
    admin_reads = {base(a.id), f"{base(a.id)}/templates", f"{base(a.id)}/templates/{ids['tpl']}"}
    for name, headers in callers.items():
        for method, path, body in _routes(a.id, ids):
            r = _call(h, method, path, body, headers)
            if name == "platform admin" and method == "GET" and path in admin_reads:
                # templates are public texts the platform admin reads: the console's pages
                # need a person of the organisation, not a stand-in
                assert r.status_code == 403 and r.json()["type"].endswith("staff-only")
                continue
            assert r.status_code == 403, (name, method, path, r.status_code, r.text)
            assert "Петрова" not in r.text
        r = _call(h, "GET", f"{base(a.id)}/withdrawals", None, {})
    for method, path, body in _routes(a.id, ids):
        assert _call(h, method, path, body, {}).status_code == 401, (method, path)
    _untouched(h, a, ids)


# --- what the staff do ---------------------------------------------------------------------------


def test_staff_read_the_withdrawal_acknowledge_it_and_confirm_destruction(two):
    h, a, _ = two
    me = as_person(h, a.staff)
    home = h.client.get(base(a.id), headers=me).json()
    assert home["organization"]["name"] == a.org["name"]
    assert home["can_acknowledge"] and home["can_destroy"] and home["can_publish"]
    assert not home["can_appoint"]  # staff, not the head

    feed = h.client.get(f"{base(a.id)}/withdrawals?pending=true", headers=me).json()
    assert feed["total"] == 1
    w = feed["withdrawals"][0]
    assert w["subject_name"].startswith("Петрова Анна") and w["type"] == "withdrawn"
    assert w["purpose"]["title"] and all(c["title"] for c in w["categories"])
    assert w["acknowledged_at"] is None
    # minimised: the subject by name only
    assert not any(k in w for k in ("snils", "birth_date", "subject_id", "email", "phone"))
    assert str(a.subject) not in str(feed)

    r = h.client.post(f"{base(a.id)}/withdrawals/{w['id']}/acknowledge", headers=me)
    assert r.status_code == 200, r.text
    assert r.json()["acknowledged_by"].startswith("Тест") or r.json()["acknowledged_by"]
    assert r.json()["acknowledged_at"]
    again = h.client.post(f"{base(a.id)}/withdrawals/{w['id']}/acknowledge", headers=me)
    assert again.status_code == 409 and again.json()["type"].endswith("already-acknowledged")
    assert h.client.get(f"{base(a.id)}/withdrawals?pending=true", headers=me).json()["total"] == 0
    with session_scope(h.runtime.sessionmaker) as s:
        ack = s.get(WithdrawalAck, uuid.UUID(w["id"]))
        assert ack.acknowledged_by == f"person:{a.staff}"
    acks = _audited(h, "consent.withdrawal.acknowledged", f"person:{a.staff}")
    assert [b["event_id"] for b in acks] == [w["id"]]

    tasks = h.client.get(f"{base(a.id)}/destruction", headers=me).json()
    task = tasks["tasks"][0]
    assert task["subject_name"] == w["subject_name"] and task["reason_title"] == "согласие отозвано"
    assert task["overdue"] is False and task["due_date"] > tasks["today"]
    done = h.client.post(f"{base(a.id)}/destruction/{task['id']}/confirm", headers=me)
    assert done.status_code == 200, done.text
    confirmed = done.json()["tasks"][0]
    assert confirmed["confirmed_at"] and confirmed["confirmed_by"]
    twice = h.client.post(f"{base(a.id)}/destruction/{task['id']}/confirm", headers=me)
    assert twice.status_code == 409 and twice.json()["type"].endswith("already-confirmed")
    assert h.client.get(f"{base(a.id)}/destruction", headers=me).json()["tasks"] == []
    # the operator client reads the same service's state
    assert h.client.get("/api/v1/consent/destruction", headers=a.client).json()["tasks"] == []


def test_acknowledging_a_stop_demand_answers_it(two):
    """A demand to stop processing (check 9) acknowledged in the console is the obligation's
    ``stopped`` step: its clock met, the demand closed — the register's own service."""
    h, a, _ = two
    subject, _ = h.person(years_ago(25))
    consent = h.request(a.client, a.tpl["id"], subject)
    h.act(subject, consent["id"], "approve")
    r = h.client.post(
        "/api/v1/me/obligations/stop-processing",
        json={"consent_id": consent["id"], "reason": "прошу прекратить"},
        headers=h.person_headers(subject),
    )
    assert r.status_code == 201, r.text
    demand = r.json()
    me = as_person(h, a.staff)
    feed = h.client.get(f"{base(a.id)}/withdrawals?pending=true", headers=me).json()
    stop = next(w for w in feed["withdrawals"] if w["consent_id"] == consent["id"])
    assert stop["type"] == "suspended" and stop["stop_due"]
    ack = h.client.post(f"{base(a.id)}/withdrawals/{stop['id']}/acknowledge", headers=me)
    assert ack.status_code == 200, ack.text
    mine = h.client.get("/api/v1/me/obligations", headers=h.person_headers(subject)).json()
    answered = next(o for o in mine["obligations"] if o["id"] == demand["id"])
    assert answered["status"] == "stopped" and answered["closed_at"]
    assert all(c["met_at"] for c in answered["clocks"])


def test_staff_defer_a_destruction_through_the_clients_service(two):
    h, a, _ = two
    me = as_person(h, a.staff)
    task = h.client.get(f"{base(a.id)}/destruction", headers=me).json()["tasks"][0]
    r = h.client.post(
        f"{base(a.id)}/destruction/{task['id']}/impossible",
        json={"reason": "данные в резервных копиях до ротации"},
        headers=me,
    )
    assert r.status_code == 201, r.text
    deferred = r.json()["tasks"][0]
    assert deferred["deferred"] and deferred["deferred_until"] and not deferred["overdue"]
    again = h.client.post(
        f"{base(a.id)}/destruction/{task['id']}/impossible", json={"reason": "ещё раз"}, headers=me
    )
    assert again.status_code == 409
    # the operator's obligation register shows it, as if its client had deferred it
    open_ = h.client.get("/api/v1/obligations", headers=a.client).json()
    mine = [o for o in open_["obligations"] if o["consent_id"] == task["consent_id"]]
    assert [o["kind"] for o in mine] == ["destruction_deferred"]
    assert mine[0]["events"][0]["actor"] == f"person:{a.staff}"


def test_staff_publish_a_version_with_the_clients_checks(two):
    h, a, _ = two
    me = as_person(h, a.staff)
    body = h.template_body(text=h.template_body()["text"] + " Редакция 2.", term_days=180)
    r = h.client.post(f"{base(a.id)}/templates", json=body, headers=me)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["version"] == 2 and made["operator_id"] == a.id and made["purpose_title"]
    listed = h.client.get(f"{base(a.id)}/templates", headers=me).json()["templates"]
    assert [t["version"] for t in listed] == [2, 1]
    one = h.client.get(f"{base(a.id)}/templates/{made['id']}", headers=me).json()
    assert one["text"].endswith("Редакция 2.")
    # the same refusals as the client's POST /consent/templates (one check, not a copy)
    for over, slug in (
        ({"text": ""}, "incomplete-consent"),
        ({"term_days": 4000}, "bad-term"),
        ({"actions": ["продажа"]}, "bad-action"),
        ({"categories": ["biometric.face_template"], "form": "any"}, None),
    ):
        mine = h.client.post(f"{base(a.id)}/templates", json=h.template_body(**over), headers=me)
        client = h.client.post(
            "/api/v1/consent/templates", json=h.template_body(**over), headers=a.client
        )
        assert mine.status_code == client.status_code and 400 <= mine.status_code < 500, over
        assert mine.json()["type"] == client.json()["type"], over
        if slug:
            assert mine.json()["type"].endswith(slug)
    published = _audited(h, "consent.template.published", f"person:{a.staff}")
    assert [b["template_id"] for b in published] == [made["id"]]


def test_requests_page_by_state_with_names(two):
    h, a, _ = two
    me = as_person(h, a.staff)
    other, _ = h.person(years_ago(20))
    h.request(a.client, a.tpl["id"], other)
    page = h.client.get(f"{base(a.id)}/consents", headers=me).json()
    assert page["total"] == 2 and page["counts"] == {"withdrawn": 1, "requested": 1}
    only = h.client.get(f"{base(a.id)}/consents?state=requested&limit=1", headers=me).json()
    assert only["total"] == 1 and only["consents"][0]["state"] == "requested"
    c = only["consents"][0]
    assert c["subject_name"].startswith("Петрова") and c["purpose"]["title"]
    assert all(cat["title"] for cat in c["categories"]) and c["template_version"] == 1
    assert str(other) not in str(only)
    bad = h.client.get(f"{base(a.id)}/consents?state=nonsense", headers=me)
    assert bad.status_code == 422
    paged = h.client.get(f"{base(a.id)}/consents?offset=1&limit=1", headers=me).json()
    assert len(paged["consents"]) == 1 and paged["total"] == 2


def test_transfer_statistics_count_by_category_and_outcome(two):
    h, a, b = two
    me = as_person(h, a.staff)
    stats = h.client.get(f"{base(a.id)}/transfers/stats", headers=me).json()
    assert [p["period"] for p in stats["periods"]] == ["week", "month", "year"]
    assert all(p["title"] for p in stats["periods"]) and stats["periods"][0]["records"] == 0
    # a refused pull (the consent is withdrawn) counts as refused for its categories; a record
    # of twenty days ago counts in the month and the year, not the week; B's never in A's
    h.pull(a.client, a.subject, "person.fullname")
    h.pull(b.client, b.subject, "person.fullname")
    with session_scope(h.runtime.sessionmaker) as s:
        s.add(
            Transfer(
                at=utcnow() - timedelta(days=20),
                channel="pull",
                actor="client:test",
                operator_id=uuid.UUID(a.id),
                subject_id=a.subject,
                purpose_key="attestation.online",
                requested=["person.fullname", "education.grades"],
                allowed=["person.fullname", "education.grades"],
                refused={},
                consent_ids=[a.consent_id],
                decision="allowed",
            )
        )
    periods = h.client.get(f"{base(a.id)}/transfers/stats", headers=me).json()["periods"]
    counts = {
        p["period"]: (
            p["records"],
            {c["category"]["key"]: (c["allowed"], c["refused"]) for c in p["categories"]},
        )
        for p in periods
    }
    assert counts["week"] == (1, {"person.fullname": (0, 1)})
    both = (2, {"person.fullname": (1, 1), "education.grades": (1, 0)})
    assert counts["month"] == counts["year"] == both
    titles = {c["category"]["title"] for p in periods for c in p["categories"]}
    assert "person.fullname" not in titles and all(titles)


# --- the head appoints staff -----------------------------------------------------------------


def _feed_status(h: Harness, o: Org, person: uuid.UUID) -> int:
    return h.client.get(f"{base(o.id)}/withdrawals", headers=as_person(h, person)).status_code


def test_the_head_appoints_and_ends_staff_by_snils(two):
    h, a, b = two
    snils = f.snils()
    worker = _login(h, {"ogrn": f.ogrn(), "name": "другая"}, snils=snils)  # not in A's ESIA
    head = as_person(h, a.head)
    assert h.client.get(base(a.id), headers=head).json()["can_appoint"]
    # the worker sees nothing of A yet
    assert (
        h.client.get(f"{base(a.id)}/withdrawals", headers=as_person(h, worker)).status_code == 403
    )
    # staff cannot appoint; B's head cannot appoint in A
    for who in (a.staff, b.head):
        r = h.client.post(
            f"/api/v1/organizations/{a.id}/staff", json={"snils": snils}, headers=as_person(h, who)
        )
        assert r.status_code == 403, r.text
    r = h.client.post(f"/api/v1/organizations/{a.id}/staff", json={"snils": snils}, headers=head)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["role"] == "operator_staff" and made["source"] == "appointment"
    assert snils not in r.text and snils.replace("-", "").replace(" ", "") not in r.text
    again = h.client.post(
        f"/api/v1/organizations/{a.id}/staff", json={"snils": snils}, headers=head
    )
    assert again.status_code == 409 and again.json()["type"].endswith("staff-exists")
    assert (
        h.client.get(f"{base(a.id)}/withdrawals", headers=as_person(h, worker)).status_code == 200
    )
    # unknown and malformed SNILS
    unknown = h.client.post(
        f"/api/v1/organizations/{a.id}/staff", json={"snils": f.snils()}, headers=head
    )
    assert unknown.status_code == 404 and unknown.json()["type"].endswith("person-not-found")
    bad = h.client.post(
        f"/api/v1/organizations/{a.id}/staff", json={"snils": f.bad_snils(snils)}, headers=head
    )
    assert bad.status_code == 422 and bad.json()["type"].endswith("invalid-snils")
    staff = h.client.get(f"/api/v1/organizations/{a.id}/staff", headers=head).json()
    by_source = {(s["role"], s["source"]) for s in staff}
    assert {("operator_staff", "esia"), ("operator_head", "esia")} <= by_source
    assert ("operator_staff", "appointment") in by_source
    # an ESIA status ends at ESIA; B's status id in A's path is unknown
    esia = next(s for s in staff if s["source"] == "esia")
    r = h.client.delete(f"/api/v1/organizations/{a.id}/staff/{esia['id']}", headers=head)
    assert r.status_code == 409 and r.json()["type"].endswith("organization-status-derived")
    b_staff = h.client.get(f"/api/v1/organizations/{b.id}/staff", headers=as_person(h, b.head))
    foreign = b_staff.json()[0]["id"]
    r = h.client.delete(f"/api/v1/organizations/{a.id}/staff/{foreign}", headers=head)
    assert r.status_code == 404
    ended = h.client.delete(f"/api/v1/organizations/{a.id}/staff/{made['id']}", headers=head)
    assert ended.status_code == 200 and ended.json()["revoked_at"]
    assert (
        h.client.get(f"{base(a.id)}/withdrawals", headers=as_person(h, worker)).status_code == 403
    )
    for kind in ("status.granted", "status.ended"):
        bodies = _audited(h, kind, f"person:{a.head}")
        assert any(b["source"] == "appointment" for b in bodies), kind
        assert all(snils[:3] + snils[4:7] not in json.dumps(b) for b in bodies)


def test_an_unregistered_or_supplier_org_id_is_refused(two):
    h, a, _ = two
    for org_id in (str(uuid.uuid4()), secrets.token_hex(4)):
        r = h.client.get(base(org_id), headers=as_person(h, a.staff))
        assert r.status_code in (403, 422), r.text


def test_the_head_is_whom_esia_names_chief_and_stops_being_at_the_next_login(harness: Harness):
    """``operator_head`` follows ESIA ``/roles`` (chief or profile admin) at every login."""
    h = harness
    org = h.organization("operator")
    oid = f.oid()

    def login(chief: bool, admin: bool = False) -> tuple[uuid.UUID, list]:
        role = UpstreamOrgRole(
            org_oid=f.oid(), ogrn=org["ogrn"], name=org["name"], chief=chief, admin=admin
        )
        with session_scope(h.runtime.sessionmaker) as s:
            person = on_login(s, f.identity(esia_oid=oid, organizations=(role,)))
            return person.id, role_grants(s, person.id)

    domain = f"org:{org['id']}"
    person, grants = login(chief=True)
    assert ("operator_head", domain) in grants and ("operator_staff", domain) in grants
    _, grants = login(chief=False, admin=True)
    assert ("operator_head", domain) in grants
    _, grants = login(chief=False)
    assert ("operator_head", domain) not in grants and ("operator_staff", domain) in grants
    home = h.client.get(base(org["id"]), headers=as_person(h, person)).json()
    assert home["can_acknowledge"] and not home["can_appoint"]
