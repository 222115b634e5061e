"""The two consoles of issue 15 attacked as an adversary would (review of the merged work).

Each test here failed before the fix it names. Hostile input to the platform administrator's
organisation registry must be a 4xx problem, never a 500 or a stored record that breaks the
registry's invariants; PostgreSQL, real code, no mocks of Propusk's modules.
"""

from __future__ import annotations

import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from functools import partial

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from audit.models import AuditEvent
from consent import destruction, parties
from consent.console import service as console
from consent.demo import seed as seed_consent
from idp import demo as idp_demo
from idp import identity, schools
from idp.login import on_login
from idp.statuses import grant_status
from idp.upstream import UpstreamOrgRole
from propusk.db import session_scope, utcnow
from tests.browsing import cabinet, origin_of
from tests.idp import factories as f
from tests.support.consent_world import inn10, ogrn13, organization_body, years_ago
from tests.support.settings import make_settings

PG = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)


def _register(harness, **over):
    """POST /api/v1/organizations as the platform administrator; a server error is an answer
    here (500), not an exception of the test client."""
    body = organization_body("operator", **{"name": "ООО «Проба»", **over})
    http = TestClient(harness.client.app, raise_server_exceptions=False)
    return http.post("/api/v1/organizations", json=body, headers=harness.admin())


def _arabic(digits: str) -> str:
    """The same number in Arabic-Indic digits (Unicode Nd: ``\\d`` and ``str.isdigit`` say yes)."""
    return "".join(chr(0x660 + int(c)) for c in digits)


@PG
def test_an_esia_oid_longer_than_the_column_is_a_4xx(harness):
    """Finding: the schema let 64 digits through to a 32-character column — 500 on PostgreSQL."""
    r = _register(harness, esia_org_oid="1" * 33)
    assert r.status_code == 422, r.text
    assert _register(harness, esia_org_oid=str(random.randint(10**9, 10**10))).status_code == 201


@PG
def test_an_esia_oid_of_another_organisation_is_a_conflict(harness, runtime):
    """Finding: completing an organisation known from ESIA with the oid another organisation
    holds broke the unique index — 500. It is a 409 and nothing changes."""
    oid = str(random.randint(10**9, 10**10))
    assert _register(harness, esia_org_oid=oid).status_code == 201
    known = ogrn13()  # an organisation first met at an ESIA login (no oid, no profile)
    with session_scope(runtime.sessionmaker) as s:
        schools.register_operator_org(s, None, known, "ООО «Из ЕСИА»")
    r = _register(harness, ogrn=known, esia_org_oid=oid)
    assert r.status_code == 409, r.text


@PG
@pytest.mark.parametrize("field", ["inn", "ogrn"])
def test_registry_numbers_are_ascii_digits(harness, field):
    """Finding: ИНН and ОГРН in Arabic-Indic digits passed the pattern and the check digits
    (``int`` reads them) and were stored as another string — the same ОГРН registered twice."""
    number = inn10() if field == "inn" else ogrn13()
    r = _register(harness, **{field: _arabic(number)})
    assert r.status_code == 422, r.text


HOSTILE_TEXTS = (
    "ООО \x1b[31mРомашка",
    "ООО\nРомашка",
    "ООО \u202eакшамоР",
    "ООО\u200bРомашка\u0007",
)


@PG
def test_control_and_direction_characters_are_refused(harness):
    """Finding: control characters and bidirectional overrides were stored in the names people
    read on the consent and signing pages (``\\u202e`` turns a name round on screen)."""
    for field in ("name", "address", "storage_location", "registry_number"):
        for value in HOSTILE_TEXTS:
            r = _register(harness, **{field: value})
            assert r.status_code == 422, (field, value, r.text)


@PG
def test_the_registry_still_takes_what_is_ordinary(harness):
    r = _register(
        harness,
        name="ГБУ ТО «РЦЦО» — Центр № 1 (филиал)",
        address="625000, г. Тюмень, ул. Ленина, д. 2/1, оф. 3",
        inn="500100732259",  # an individual's 12 digits
        ogrn="304500116000157",  # ОГРНИП, 15 digits
    )
    assert r.status_code == 201, r.text


# --- /metrics from loopback with proxy headers ------------------------------------------------


@PG
def test_metrics_behind_a_local_proxy_that_forwards_only_the_scheme_need_a_login(live_server):
    """Finding: only X-Forwarded-For, Forwarded and X-Real-IP marked a request as proxied; a
    reverse proxy on the same host configured to pass ``X-Forwarded-Proto`` (or ``Via``) alone
    handed every visitor the metrics as a local scraper."""
    url = live_server.url + "/metrics"
    assert httpx.get(url).status_code == 200  # the local scraper
    for header in (
        {"X-Forwarded-Proto": "https"},
        {"X-Forwarded-Host": "propusk.example"},
        {"Via": "1.1 nginx"},
        {"True-Client-IP": "203.0.113.7"},
        {"X-Forwarded-For": "127.0.0.1"},
    ):
        r = httpx.get(url, headers=header)
        assert r.status_code == 401, (header, r.status_code)
        assert "propusk_" not in r.text


# --- the operator's head: appointments by SNILS -----------------------------------------------


@pytest.fixture
def settings(db_url):
    return make_settings(db_url, rate_staff_appointments="3/3600")


def _head_and_operator(harness) -> tuple[str, uuid.UUID]:
    """A registered operator and its head (ESIA: the organisation's chief), logged in."""
    org = harness.organization("operator")
    role = UpstreamOrgRole(org_oid=f.oid(), ogrn=org["ogrn"], name=org["name"], chief=True)
    with session_scope(harness.runtime.sessionmaker) as s:
        head = on_login(s, f.identity(organizations=(role,)), settings=harness.runtime.settings)
        return org["id"], head.id


def _as(harness, person_id: uuid.UUID) -> dict:
    return harness.page_person(person_id)


@PG
def test_a_head_cannot_turn_snils_numbers_into_names_in_a_loop(harness):
    """Finding: ``POST /organizations/{id}/staff`` looks a SNILS up and answers the person's
    name (404 when nobody has it), with no bound: a head's script walked SNILS numbers into
    names. Limited per head now; another head keeps its own budget."""
    org_id, head = _head_and_operator(harness)
    path = f"/api/v1/organizations/{org_id}/staff"
    answers = [
        harness.client.post(path, json={"snils": f.snils()}, headers=_as(harness, head))
        for _ in range(4)
    ]
    assert [r.status_code for r in answers[:3]] == [404, 404, 404], answers[0].text
    assert answers[3].status_code == 429 and answers[3].headers["Retry-After"]
    assert answers[3].json()["type"].endswith("/too-many-requests")
    other_org, other_head = _head_and_operator(harness)
    r = harness.client.post(
        f"/api/v1/organizations/{other_org}/staff",
        json={"snils": f.snils()},
        headers=_as(harness, other_head),
    )
    assert r.status_code == 404, r.text


@PG
def test_an_application_name_with_direction_characters_is_refused(harness):
    """Finding: the application's name (read on the consent screen: «… просит доступ») refused
    C0 control characters only; a right-to-left override or a zero-width space passed."""
    http = TestClient(harness.client.app, raise_server_exceptions=False)
    for name in ("Дневник \u202eкинвеД", "Днев\u200bник", "Дневник\u2066"):
        r = http.post(
            "/api/v1/clients",
            json={"name": name, "grant_types": ["client_credentials"]},
            headers=harness.admin(),
        )
        assert r.status_code == 422, (name, r.text)
    ok = http.post(
        "/api/v1/clients",
        json={"name": "Электронный дневник «Школа № 17»", "grant_types": ["client_credentials"]},
        headers=harness.admin(),
    )
    assert ok.status_code == 201, ok.text


# --- the head's appointments over real HTTP: cross-site, and the ended member's session -------

HEAD = "1000400025"  # the simulator's director of ГБУ ТО «РЦЦО» (ESIA chief: operator_head)
WORKER = "1000400016"  # a parent of the demo, appointed by the head for this test
RCCO = "1000500002"


@PG
def test_an_ended_appointment_ends_the_members_open_session_and_is_not_forged(sim_server):
    """Held: the head's appointment is ended only by the head's own page (a cross-site DELETE
    or POST with the head's cookie is refused before any lookup), and the member's session
    opened while appointed reads nothing of the console once it is ended — no re-login needed
    (the roles are read at every request, not carried by the session)."""
    url, rt = sim_server
    with session_scope(rt.sessionmaker) as s:
        ids = idp_demo.seed(s, rt.settings)
        seed_consent(s, ids)  # the organisation's consent profile: a registered operator
        org_id = ids[RCCO]
    worker = cabinet(url, WORKER)
    head = cabinet(url, HEAD)
    with session_scope(rt.sessionmaker) as s:
        person = identity.get_person_by_oid(s, WORKER)
        status = grant_status(
            s, person.id, "operator_staff", "appointment", organization_id=org_id, actor="test"
        )
        status_id = status.id
    with closing(worker), closing(head):
        console = f"/api/v1/operators/{org_id}/withdrawals"
        first = worker.get(console)
        assert first.status_code == 200, first.text
        staff = f"/api/v1/organizations/{org_id}/staff"
        token = head.headers.pop("X-CSRF-Token")
        evil = {"Origin": "https://evil.example"}
        for headers in (evil, {**evil, "X-CSRF-Token": token}, {"Origin": origin_of(url)}):
            assert head.delete(f"{staff}/{status_id}", headers=headers).status_code == 403
            r = head.post(staff, json={"snils": "123-456-789 64"}, headers=headers)
            assert r.status_code == 403, r.text
        assert worker.get(console).status_code == 200  # still appointed
        head.headers["X-CSRF-Token"] = token
        ended = head.delete(f"{staff}/{status_id}")
        assert ended.status_code == 200, ended.text
        refused = worker.get(console)
        assert refused.status_code == 403 and "subject_name" not in refused.text
        assert worker.get(f"/api/v1/operators/{org_id}").status_code == 403


# --- the secret rotation: shown once, stored and logged nowhere --------------------------------


@PG
def test_a_rotated_secret_is_answered_once_and_written_nowhere(harness, caplog):
    """Held: the new secret is in the rotation's answer only (no-store), never in the client's
    description, the audit log's leaf or a log line."""
    admin = harness.admin()
    made = harness.client.post(
        "/api/v1/clients",
        json={"name": "Проба ротации", "grant_types": ["client_credentials"]},
        headers=admin,
    ).json()
    client_id = made["client_id"]
    with caplog.at_level("DEBUG"):
        r = harness.client.post(f"/api/v1/clients/{client_id}/secret", headers=admin)
    assert r.status_code == 200 and "no-store" in r.headers["cache-control"]
    secret = r.json()["client_secret"]
    assert len(secret) >= 32 and secret != made["client_secret"]
    assert secret not in caplog.text
    assert secret not in harness.client.get(f"/api/v1/clients/{client_id}", headers=admin).text
    assert secret not in harness.client.get("/api/v1/clients", headers=admin).text
    with session_scope(harness.runtime.sessionmaker) as s:
        leaves = s.scalars(
            select(AuditEvent.leaf).where(AuditEvent.subject == f"client:{client_id}")
        ).all()
    assert any(b"client.secret_rotated" in leaf for leaf in leaves)
    assert not any(secret.encode() in leaf for leaf in leaves)


# --- the operator's staff publish consent wording ---------------------------------------------


@PG
def test_staff_cannot_publish_wording_that_reads_otherwise_on_screen(harness):
    """Finding: a template's wording took bidirectional overrides and control characters
    (``\\u202e`` reverses what follows on screen and in the signed document: the stored text and
    the words a parent reads differ). Now a staff member's version — and the client's — is 422;
    ordinary wording with line breaks is published."""
    org = harness.organization("operator")
    role = UpstreamOrgRole(org_oid=f.oid(), ogrn=org["ogrn"], name=org["name"])
    with session_scope(harness.runtime.sessionmaker) as s:
        staff = on_login(s, f.identity(organizations=(role,)), settings=harness.runtime.settings)
    path = f"/api/v1/operators/{org['id']}/templates"
    hostile = {
        "text": "Согласен на обработку \u202eнеобработку\u202c данных",
        "conditions": "Передача \u2066третьим лицам\u2069",
        "withdrawal_method": "Заявлением\x1b[8m",
        "processor": "ООО \u202eРомашка",
    }
    for field, value in hostile.items():
        r = harness.client.post(
            path, json=harness.template_body(**{field: value}), headers=_as(harness, staff.id)
        )
        assert r.status_code == 422, (field, r.text)
    fine = harness.template_body(text="Я даю согласие\nна обработку:\n\t— ФИО;\n\t— оценок.")
    r = harness.client.post(path, json=fine, headers=_as(harness, staff.id))
    assert r.status_code == 201, r.text


@PG
def test_unusual_methods_do_not_multiply_the_metric_series(live_server):
    """Finding: the request counter and latency histogram took the method as sent: every
    method the HTTP parser accepts (PROPFIND, MKCOL, …) made new series under each route's
    template (405 there) — a visitor grew the metrics without bound of use. Now OTHER."""
    for method in ("PROPFIND", "MKCOL", "LOCK"):
        httpx.request(method, live_server.url + "/api/v1/messages")
        httpx.request(method, live_server.url + "/healthz")
    text = httpx.get(live_server.url + "/metrics").text
    for method in ("PROPFIND", "MKCOL", "LOCK"):
        assert f'method="{method}"' not in text
    assert 'method="OTHER"' in text and 'method="GET"' in text


@PG
def test_a_relying_party_holding_the_heads_token_appoints_no_one(harness):
    """Held: the head's access token in an application's hands (every scope the person can
    grant) neither lists, appoints nor ends staff, nor opens the console (not delegable)."""
    org_id, head = _head_and_operator(harness)
    scopes = {"profile", "school", "children", "consents.read", "transfers.read", "data.read"}
    token = harness.relying_party(head, scopes | {"obligations.read", "biometrics.enrol"})
    staff = f"/api/v1/organizations/{org_id}/staff"
    own = harness.client.get(staff, headers=_as(harness, head))
    assert own.status_code == 200 and own.json(), own.text  # the head in person
    for method, path, body in (
        ("GET", staff, None),
        ("POST", staff, {"snils": f.snils()}),
        ("DELETE", f"{staff}/{own.json()[0]['id']}", None),
        ("GET", f"/api/v1/operators/{org_id}", None),
        ("GET", f"/api/v1/operators/{org_id}/withdrawals", None),
    ):
        r = harness.client.request(method, path, json=body, headers=token)
        assert r.status_code == 403, (method, path, r.text)
    assert len(harness.client.get(staff, headers=_as(harness, head)).json()) == len(own.json())


# --- two staff members acknowledge the same withdrawal at once --------------------------------


def _withdrawn(harness) -> tuple[str, uuid.UUID]:
    """An operator whose subject withdrew a consent, and a staff member of it (ESIA)."""
    org = harness.organization("operator")
    client = harness.org_client(org["id"], "operator")
    tpl = harness.template(client)
    subject, _ = harness.person(years_ago(30))
    consent = harness.request(client, tpl["id"], subject)
    harness.act(subject, consent["id"], "approve")
    harness.act(subject, consent["id"], "withdraw")
    role = UpstreamOrgRole(org_oid=f.oid(), ogrn=org["ogrn"], name=org["name"])
    with session_scope(harness.runtime.sessionmaker) as s:
        staff = on_login(s, f.identity(organizations=(role,)), settings=harness.runtime.settings)
        return org["id"], staff.id


def _waits_for_a_lock(runtime) -> bool:
    with runtime.sessionmaker() as s:
        waiting = s.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database()"
            )
        ).scalar()
        return bool(waiting)


def _second_while_first_holds(harness, org_id: str, staff, first, path: str):
    """``first(session, operator, actor=, now=)`` runs in a transaction left open while the same
    action is POSTed to ``path``; the first commits once the second waits on its lock (or has
    answered). Answers the second's response."""
    http = TestClient(harness.client.app, raise_server_exceptions=False)
    with ThreadPoolExecutor(1) as pool:
        with session_scope(harness.runtime.sessionmaker) as s:
            operator = parties.get(s, uuid.UUID(org_id))
            first(s, operator, actor=f"person:{staff}", now=utcnow())
            second = pool.submit(http.post, path, headers=_as(harness, staff))
            while not second.done() and not _waits_for_a_lock(harness.runtime):
                pass  # until it blocks on the first's transaction (or answered)
        return second.result(timeout=120)


@PG
def test_two_staff_acknowledging_one_withdrawal_at_once_get_200_and_409(harness):
    """Finding: both acknowledgements found none yet and inserted one; the second waited on
    the first's key and then failed — 500. The event is now locked while it is acknowledged:
    the second waits, sees the first's and answers 409 ``already-acknowledged``."""
    org_id, staff = _withdrawn(harness)
    base = f"/api/v1/operators/{org_id}/withdrawals"
    event_id = harness.client.get(base, headers=_as(harness, staff)).json()["withdrawals"][0]["id"]
    first = partial(console.acknowledge, event_id=uuid.UUID(event_id))
    r = _second_while_first_holds(harness, org_id, staff, first, f"{base}/{event_id}/acknowledge")
    assert r.status_code == 409, r.text
    assert r.json()["type"].endswith("/already-acknowledged")


@PG
def test_two_confirmations_of_one_destruction_at_once_get_200_and_409(harness):
    """Finding (issue 15's note): two staff confirming one destruction task at the same moment
    both succeeded, with two ``consent.destruction.confirmed`` events. The task is now locked
    while it is confirmed: the second waits, sees the confirmation and answers 409."""
    org_id, staff = _withdrawn(harness)
    base = f"/api/v1/operators/{org_id}/destruction"
    (task,) = harness.client.get(base, headers=_as(harness, staff)).json()["tasks"]
    first = partial(destruction.confirm_destruction, task_id=uuid.UUID(task["id"]))
    r = _second_while_first_holds(harness, org_id, staff, first, f"{base}/{task['id']}/confirm")
    assert r.status_code == 409, r.text
    assert r.json()["type"].endswith("/already-confirmed")
    with session_scope(harness.runtime.sessionmaker) as s:
        events = s.scalars(
            select(AuditEvent).where(AuditEvent.event_type == "consent.destruction.confirmed")
        ).all()
        assert sum(task["id"].encode() in e.leaf for e in events) == 1


@PG
def test_a_head_cannot_appoint_a_minor_as_staff(harness):
    """Staff read and act on other people's data: a 16-year-old who logged in once is not
    appointed (422, nothing granted); an adult with the same path is."""
    from datetime import date

    from idp.statuses import active_statuses

    org_id, head = _head_and_operator(harness)
    path = f"/api/v1/organizations/{org_id}/staff"
    young, grown = f.snils(), f.snils()
    with session_scope(harness.runtime.sessionmaker) as s:
        teen = on_login(s, f.identity(birth_date=date(2010, 6, 1), snils_value=young)).id
        on_login(s, f.identity(snils_value=grown))
    refused = harness.client.post(path, json={"snils": young}, headers=_as(harness, head))
    assert refused.status_code == 422 and refused.json()["type"].endswith("/staff-minor")
    with session_scope(harness.runtime.sessionmaker) as s:
        assert not [st for st in active_statuses(s, teen) if st.role == "operator_staff"]
    granted = harness.client.post(path, json={"snils": grown}, headers=_as(harness, head))
    assert granted.status_code == 201, granted.text
