"""The gated pull fast lane and its batcher, over real HTTP with real client access tokens.

The same requests go to a server with the lane (``consent_pull_workers=2``) and to one without
(``0``: every pull runs in the route's own transaction); both must answer the same statuses and
bodies, and the lane's answers must really come from the batcher. A revoked token is refused on
its next use although the lane caches verified tokens.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from consent import parties, vault
from consent import repository as repo
from consent.lifecycle import withdraw
from consent.parties import register_organization
from idp.oidc import clients
from idp.oidc import repository as oidc_repo
from propusk.db import session_scope, utcnow
from tests.idp.oidc.helpers import org_client
from tests.support.consent_world import given_consent, operator_with_template, org_fields, relate
from tests.support.servers import start_live_server

CATS = "person.fullname,education.grades"


@pytest.fixture
def servers(db_url):
    lane, rt = start_live_server(db_url)
    plain, rt_plain = start_live_server(db_url, consent_pull_workers=0)
    try:
        yield lane, plain, rt
    finally:
        lane.stop()
        plain.stop()
        rt.dispose()
        rt_plain.dispose()


def _world(rt) -> dict:
    """An operator with a client, a subject with a given consent (ФИО only) that names the
    supplier (the subject's school) and that supplier's vault values of two categories; another
    school of the subject holds a newer ФИО, which the consent does not release."""
    org_id, tpl_id = operator_with_template(rt)
    with session_scope(rt.sessionmaker) as s:
        client, secret = org_client(s, org_id, prefix="lane")
        supplier, other = (
            register_organization(s, org_fields("supplier", name), actor="system")
            for name in ("Школа", "Другая школа")
        )
    subject, consent_id = given_consent(rt, org_id, tpl_id, supplier_id=supplier.id)
    for org in (supplier, other):
        relate(rt, org.ogrn, org.name, subject)
    with session_scope(rt.sessionmaker) as s:
        for i, (org, category, value) in enumerate(
            (
                (supplier, "person.fullname", "Гонкин Пётр"),
                (supplier, "education.grades", {"math": 5}),
                (other, "person.fullname", "Гонкин П."),  # the newest
            )
        ):
            org = parties.get(s, org.id)
            now = utcnow() + timedelta(milliseconds=i)
            vault.put(s, rt.settings, org, subject, category, value, actor="t", now=now)
    return {
        "org": org_id,
        "tpl": tpl_id,
        "subject": subject,
        "consent": consent_id,
        "supplier": supplier.id,
        "client": (client.client_id, secret),
    }


def _token(url: str, client: tuple[str, str]) -> dict[str, str]:
    r = httpx.post(
        url + "/oauth2/token", auth=client, data={"grant_type": "client_credentials"}, timeout=30
    )
    assert r.status_code == 200, r.text
    return {"Authorization": "Bearer " + r.json()["access_token"]}


def _pull(url: str, headers: dict, subject, query: str | None = None) -> httpx.Response:
    q = query if query is not None else f"purpose=attestation.online&categories={CATS}"
    return httpx.get(f"{url}/api/v1/subjects/{subject}/data?{q}", headers=headers, timeout=30)


def _same_shape(a: dict, b: dict) -> None:
    """Equal up to the per-transfer id and the per-request id (problems quote it: both do)."""
    assert a.pop("transfer_id") != b.pop("transfer_id")
    assert ("request_id" in a) == ("request_id" in b)
    a.pop("request_id", None), b.pop("request_id", None)
    assert a == b


def test_lane_answers_like_the_route_and_through_the_batcher(servers):
    lane, plain, rt = servers
    w = _world(rt)
    h_lane, h_plain = _token(lane.url, w["client"]), _token(plain.url, w["client"])

    a, b = _pull(lane.url, h_lane, w["subject"]), _pull(plain.url, h_plain, w["subject"])
    assert a.status_code == b.status_code == 200, (a.text, b.text)
    assert a.headers["content-type"] == b.headers["content-type"] == "application/json"
    body = a.json()
    assert body["data"] == {"person.fullname": "Гонкин Пётр"}  # minimisation: grades refused
    assert body["refused"] == {"education.grades": "category_not_covered"}
    assert body["allowed_by"] == {"person.fullname": str(w["consent"])}
    assert body["suppliers"] == {"person.fullname": str(w["supplier"])}  # the named one only
    _same_shape(body, b.json())

    # bad input: the same problem from both (the lane hands odd requests to the route)
    for query in (
        f"purpose=attestation.online&categories={CATS}&extra=1",  # unknown parameter: route
        "purpose=attestation.online&categories=person.fullname,%20education.grades",
        "purpose=attestation.online&categories=no.such.category",  # the lane's own Problem
        "purpose=no.such.purpose&categories=person.fullname",
        "purpose=attestation.online",
    ):
        a, b = (
            _pull(lane.url, h_lane, w["subject"], query),
            _pull(plain.url, h_plain, w["subject"], query),
        )
        assert a.status_code == b.status_code, (query, a.text, b.text)
        assert a.headers["content-type"] == b.headers["content-type"], query
        if a.status_code >= 400:
            assert a.json()["type"] == b.json()["type"], query

    # withdrawn: 403 problem+json from both, and recorded
    with session_scope(rt.sessionmaker) as s:
        withdraw(s, w["consent"], w["subject"], now=utcnow())
    a, b = _pull(lane.url, h_lane, w["subject"]), _pull(plain.url, h_plain, w["subject"])
    assert a.status_code == b.status_code == 403
    assert a.headers["content-type"] == "application/problem+json"
    assert a.json()["refused"]["person.fullname"] == "consent_withdrawn"
    pa, pb = a.json(), b.json()
    _same_shape(pa, pb)
    with session_scope(rt.sessionmaker) as s:
        records = repo.transfers_of_subject(s, w["subject"], 100)
    assert [t.decision for t in records].count("refused") >= 2


def test_lane_serves_from_the_batcher(servers):
    lane, _, rt = servers
    w = _world(rt)
    headers = _token(lane.url, w["client"])
    app = lane.server.config.app
    before = app.state.consent_pulls.pulls
    for _ in range(5):
        assert _pull(lane.url, headers, w["subject"]).status_code == 200
    assert app.state.consent_pulls.pulls == before + 5


def test_revoked_token_refused_on_next_use(servers):
    lane, _, rt = servers
    w = _world(rt)
    headers = _token(lane.url, w["client"])
    assert _pull(lane.url, headers, w["subject"]).status_code == 200  # now cached as verified
    token = headers["Authorization"].removeprefix("Bearer ")
    r = httpx.post(lane.url + "/oauth2/revoke", auth=w["client"], data={"token": token})
    assert r.status_code == 200
    r = _pull(lane.url, headers, w["subject"])
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "invalid_token" in r.headers["www-authenticate"]
    with session_scope(rt.sessionmaker) as s:  # refused before the gate: nothing recorded
        assert len(repo.transfers_of_subject(s, w["subject"], 100)) == 1


def test_lane_leaves_other_callers_to_the_route(servers):
    lane, _, rt = servers
    w = _world(rt)
    app = lane.server.config.app
    before = app.state.consent_pulls.pulls
    assert _pull(lane.url, {}, w["subject"]).status_code == 401  # no token
    bad = {"Authorization": "Bearer not-a-token"}
    assert _pull(lane.url, bad, w["subject"]).status_code == 401
    assert _pull(lane.url, bad, str(w["subject"]).upper()).status_code == 401
    assert app.state.consent_pulls.pulls == before


def test_deleted_client_is_refused_at_once(servers):
    """The lane's verified-token cache hears of client changes made in this process."""
    lane, _, rt = servers
    w = _world(rt)
    headers = _token(lane.url, w["client"])
    assert _pull(lane.url, headers, w["subject"]).status_code == 200  # cached as verified
    with session_scope(rt.sessionmaker) as s:
        clients.delete_client(s, w["client"][0])
    r = _pull(lane.url, headers, w["subject"])
    assert r.status_code == 401, r.text


def _count(rt, subject) -> int:
    with session_scope(rt.sessionmaker) as s:
        return len(repo.transfers_of_subject(s, subject, 100))


def test_client_deleted_by_another_process_is_refused_on_next_use(servers):
    """Another process (the CLI, another app instance) cannot reach this process's caches; the
    batch's transaction reads the client row, so the cached verification does not outlive it."""
    lane, _, rt = servers
    w = _world(rt)
    headers = _token(lane.url, w["client"])
    assert _pull(lane.url, headers, w["subject"]).status_code == 200  # cached as verified
    with session_scope(rt.sessionmaker) as s:  # the repository: no in-process cache hooks
        assert oidc_repo.delete_client(s, w["client"][0])
    r = _pull(lane.url, headers, w["subject"])
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "client deleted" in r.headers["www-authenticate"]
    assert _count(rt, w["subject"]) == 1  # refused before the gate: nothing recorded
    # and from now on everywhere in this process: the route's client cache heard of it too
    for _ in range(2):
        assert _pull(lane.url, headers, w["subject"]).status_code == 401
    assert _count(rt, w["subject"]) == 1


def test_client_rebound_by_another_process_speaks_for_its_new_operator(servers):
    lane, _, rt = servers
    w = _world(rt)
    other_org, _ = operator_with_template(rt)
    headers = _token(lane.url, w["client"])
    assert _pull(lane.url, headers, w["subject"]).status_code == 200  # cached for w["org"]
    with session_scope(rt.sessionmaker) as s:
        oidc_repo.get_client(s, w["client"][0]).organization_id = other_org
    r = _pull(lane.url, headers, w["subject"])
    assert r.status_code == 401 and "client changed" in r.headers["www-authenticate"], r.text
    assert _count(rt, w["subject"]) == 1
    # verified afresh: now the other operator asks, and it has no consent of this subject
    r = _pull(lane.url, headers, w["subject"])
    assert r.status_code == 403, r.text
    assert r.json()["refused"]["person.fullname"] == "no_consent"
    with session_scope(rt.sessionmaker) as s:
        last = repo.transfers_of_subject(s, w["subject"], 1)[0]
    assert (last.operator_id, last.decision) == (other_org, "refused")
