"""Adversarial review of issue 14 (the participant's pages), kept as regression tests.

The participant's answers now carry operator names, titles, destruction clocks, per-category
outcomes, the consents relied on and audit proofs; the pages show signers by name. Each test
asks one of them as someone who must not see or do it — another person, a former guardian of a
child now of age, a relying party's token with and without its scopes, an operator's client, an
anonymous visitor, a form posted from another site, a script on another origin — and checks
that nothing of the subject's comes back and nothing changes. The JSON answers through the
consent harness (real routes, real policy, test principals); the HTML pages over real HTTP
with the ESIA simulator's demo people (the pages read the login cookie). Nothing here mocks
Propusk's code.
"""

from __future__ import annotations

import uuid
from contextlib import closing

import httpx
import pytest

from propusk.db import session_scope
from tests.browsing import cabinet, origin_of
from tests.support.consent_world import World, request_consent, signing_operator, years_ago
from tests.support.page_text import visible_text

ME = (
    "/api/v1/me/consents",
    "/api/v1/me/requests",
    "/api/v1/me/transfers",
    "/api/v1/me/data",
    "/api/v1/me/categories",
    "/api/v1/me/biometrics",
    "/api/v1/me/exams",
)
VICTIM = "1000400015"  # Соколова Екатерина, 18: the subject of the consent attacked
ATTACKER = "1000400024"  # Волков Виктор: another person with a login of his own


def _lived_in(world: World) -> tuple[uuid.UUID, dict]:
    """An adult with a given consent, held values and a partial pull in her history."""
    h = world.h
    subject, _ = h.person(years_ago(30))
    given = h.request(world.op_h, world.tpl["id"], subject, categories=["person.fullname"])
    h.act(subject, given["id"], "approve")
    h.relate(world.sup, subject)
    h.push(world.sup_h, subject, "person.fullname", {"last": "Петрова", "first": "Анна"})
    assert h.pull(world.op_h, subject, "person.fullname,education.grades").status_code == 200
    return subject, given


def _refused(r: httpx.Response, status: int | tuple[int, ...], *secrets: str) -> None:
    """A problem+json refusal that names nothing of the subject's."""
    statuses = (status,) if isinstance(status, int) else status
    assert r.status_code in statuses, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json"), r.text
    for secret in secrets:
        assert secret not in r.text, secret


# --- the /me answers asked for someone else --------------------------------------------------


@pytest.mark.parametrize("path", ME)
def test_another_person_reads_nothing_of_the_subject(world: World, path: str):
    h = world.h
    subject, given = _lived_in(world)
    stranger, _ = h.person(years_ago(40))
    r = h.client.get(path, params={"subject": str(subject)}, headers=h.person_headers(stranger))
    _refused(r, 403, given["id"], world.op["name"], world.sup["name"])


@pytest.mark.parametrize("path", ME)
def test_a_former_guardian_reads_nothing_of_a_child_now_of_age(world: World, path: str):
    """A parent whose child turned 18 keeps the guardianship row, and nothing else."""
    h = world.h
    parent, (grown,) = h.person(years_ago(50), children=(years_ago(19),))
    given = h.request(world.op_h, world.tpl["id"], grown, categories=["person.fullname"])
    h.act(grown, given["id"], "approve")
    r = h.client.get(path, params={"subject": str(grown)}, headers=h.person_headers(parent))
    _refused(r, 403, given["id"], world.op["name"])
    assert r.json()["type"].endswith("/representation-ended")
    assert h.client.get(path, headers=h.person_headers(grown)).status_code == 200


@pytest.mark.parametrize("path", ME)
def test_an_operator_client_and_an_anonymous_visitor_read_no_cabinet(world: World, path: str):
    h = world.h
    subject, given = _lived_in(world)
    r = h.client.get(path, params={"subject": str(subject)}, headers=world.op_h)
    _refused(r, 403, given["id"])
    r = h.client.get(path, params={"subject": str(subject)}, headers=world.sup_h)
    _refused(r, 403, given["id"])
    r = h.client.get(path, params={"subject": str(subject)})
    _refused(r, 401, given["id"])


def test_the_consequences_of_someone_elses_consent_are_refused_to_everyone(world: World):
    h = world.h
    _, given = _lived_in(world)
    path = f"/api/v1/consents/{given['id']}/consequences"
    stranger, _ = h.person(years_ago(40))
    _refused(h.client.get(path, headers=h.person_headers(stranger)), 403, "withdraw_due")
    _refused(h.client.get(path, headers=world.op_h), 403, "withdraw_due")
    _refused(h.client.get(path), 401, "withdraw_due")
    # the stranger's own relying party, even with every scope, is no closer
    everything = {"consents.read", "transfers.read", "data.read", "children"}
    _refused(h.client.get(path, headers=h.relying_party(stranger, everything)), 403, "withdraw_due")

    parent, (grown,) = h.person(years_ago(50), children=(years_ago(19),))
    c = h.request(world.op_h, world.tpl["id"], grown, categories=["person.fullname"])
    h.act(grown, c["id"], "approve")
    r = h.client.get(f"/api/v1/consents/{c['id']}/consequences", headers=h.person_headers(parent))
    _refused(r, 403, "withdraw_due")


# --- a relying party's token ----------------------------------------------------------------


def test_a_relying_party_reads_only_what_its_scopes_open(world: World):
    h = world.h
    subject, given = _lived_in(world)
    bare = h.relying_party(subject, set())
    for path in ME:
        _refused(h.client.get(path, headers=bare), 403, given["id"], world.op["name"])
    transfers = h.relying_party(subject, {"transfers.read"})
    assert h.client.get("/api/v1/me/transfers", headers=transfers).status_code == 200
    for path in ("/api/v1/me/consents", "/api/v1/me/data", "/api/v1/me/categories"):
        _refused(h.client.get(path, headers=transfers), 403, given["id"], world.op["name"])
    consequences = f"/api/v1/consents/{given['id']}/consequences"
    _refused(h.client.get(consequences, headers=transfers), 403, "withdraw_due")
    said = h.client.get(consequences, headers=h.relying_party(subject, {"consents.read"}))
    assert said.status_code == 200, said.text  # it reads them, and may do neither act
    assert said.json()["can_withdraw"] is False and said.json()["can_stop"] is False
    # exams are never delegated; neither are the acts the consequences describe
    every = h.relying_party(
        subject, {"consents.read", "transfers.read", "data.read", "biometrics.enrol"}
    )
    _refused(h.client.get("/api/v1/me/exams", headers=every), 403)
    for act in ("withdraw", "suspend"):
        r = h.client.post(f"/api/v1/consents/{given['id']}/{act}", headers=every)
        _refused(r, 403)
    mine = h.client.get("/api/v1/me/consents", headers=h.person_headers(subject)).json()
    assert {c["id"]: c["state"] for c in mine["consents"]}[given["id"]] == "given"


def test_a_parents_relying_party_needs_the_children_scope_for_the_childs_answers(world: World):
    h = world.h
    parent, (child,) = h.person(years_ago(40), children=(years_ago(15),))
    c = h.request(world.op_h, world.tpl["id"], child, categories=["person.fullname"])
    scopes = {"consents.read", "transfers.read", "data.read"}
    without = h.relying_party(parent, scopes)
    for path in ("/api/v1/me/consents", "/api/v1/me/requests", "/api/v1/me/transfers"):
        r = h.client.get(path, params={"subject": str(child)}, headers=without)
        _refused(r, 403, c["id"], world.op["name"])
    with_children = h.relying_party(parent, scopes | {"children"})
    r = h.client.get("/api/v1/me/requests", params={"subject": str(child)}, headers=with_children)
    assert r.status_code == 200 and c["id"] in r.text


# --- what the answers name ------------------------------------------------------------------


def test_a_history_names_only_the_subjects_own_transfers_and_consents(world: World):
    """Two people with consents to the same operator and pulls of the same categories: each
    history names only its own transfers, consents relied on and audit events."""
    h = world.h
    a, a_consent = _lived_in(world)
    b, b_consent = _lived_in(world)
    for me, mine, theirs in ((a, a_consent, b_consent), (b, b_consent, a_consent)):
        r = h.client.get("/api/v1/me/transfers", headers=h.person_headers(me))
        assert r.status_code == 200, r.text
        transfers = r.json()["transfers"]
        assert transfers and theirs["id"] not in r.text
        other = str(b if me == a else a)
        assert other not in r.text
        for t in transfers:
            assert t["subject_id"] == str(me)
            assert set(t["consent_ids"]) <= {mine["id"]}
            assert {i["consent_id"] for i in t["items"]} <= {mine["id"], None}
            leaf = str((t["audit"] or {}).get("leaf", ""))
            assert other not in leaf and theirs["id"] not in leaf


def test_a_parent_of_a_14_to_17_child_alone_does_not_give_the_consent(world: World):
    """Both must sign: the parent's signature alone leaves the request partially given, the
    operator's pull is refused and the history says so."""
    h = world.h
    parent, (teen,) = h.person(years_ago(45), children=(years_ago(16),))
    h.relate(world.sup, teen)
    h.push(world.sup_h, teen, "person.fullname", {"last": "Петров", "first": "Ребёнок0"})
    c = h.request(world.op_h, world.tpl["id"], teen, categories=["person.fullname"])
    assert h.act(parent, c["id"], "approve")["state"] == "partially_given"
    r = h.pull(world.op_h, teen, "person.fullname")
    assert r.status_code == 403, r.text
    history = h.client.get(
        "/api/v1/me/transfers", params={"subject": str(teen)}, headers=h.person_headers(parent)
    ).json()["transfers"]
    assert history[0]["decision"] == "refused" and history[0]["allowed"] == []
    assert all(i["consent_id"] is None for i in history[0]["items"])
    # and a second signature by the same parent does not stand for the child's
    h.act(parent, c["id"], "approve", expect=409)


# --- the pages, over real HTTP --------------------------------------------------------------


@pytest.fixture
def live(sim_server):
    """A real server with the ESIA simulator mounted and its demo people: (url, runtime)."""
    return sim_server


def _victims_consent(url: str, rt) -> tuple[str, dict]:
    op = signing_operator(rt, form="any")
    cabinet(url, VICTIM).close()  # her first login makes her person row
    return request_consent(url, rt, op, VICTIM), op


def test_another_person_learns_nothing_from_the_signing_pages(live):
    """The refusal's confirmation page showed any consent by id — the subject's name, the
    operator, the purpose and who signed — to whoever was logged in."""
    url, rt = live
    cid, op = _victims_consent(url, rt)
    victim_name = "Соколова"
    with closing(cabinet(url, ATTACKER)) as browser:
        token = browser.headers["X-CSRF-Token"]
        pages = {
            "document": browser.get(f"/sign/{cid}"),
            # a return address the operator never registered: the same refusal, so an id
            # cannot be probed for existence
            "document with a foreign return": browser.get(
                f"/sign/{cid}", params={"return_uri": "https://evil.example/cb"}
            ),
            "unknown consent with a foreign return": browser.get(
                f"/sign/{uuid.uuid4()}", params={"return_uri": "https://evil.example/cb"}
            ),
            "result": browser.get(f"/sign/{cid}/result"),
            "receipt": browser.get(f"/consents/{cid}/receipt"),
            "refusal confirmation": browser.post(
                f"/sign/{cid}", data={"csrf_token": token, "decision": "refuse"}
            ),
            "refusal": browser.post(
                f"/sign/{cid}", data={"csrf_token": token, "decision": "refuse", "confirm": "1"}
            ),
            "signature": browser.post(
                f"/sign/{cid}", data={"csrf_token": token, "decision": "sign", "read": "1"}
            ),
        }
    for name, page in pages.items():
        text = visible_text(page.text)
        assert page.status_code in (403, 404), (name, page.status_code, text)
        assert victim_name not in text and op["org"] not in text, (name, text)
    with closing(cabinet(url, VICTIM)) as victim:
        mine = victim.get("/api/v1/me/requests").json()["requests"]
        assert {r["id"]: r["state"] for r in mine}[cid] == "requested"


def test_a_form_posted_from_another_site_changes_nothing(live):
    """The victim is logged in; a page elsewhere posts the signing form and the cabinet's
    withdrawal (the cookie goes along): no CSRF token, or another origin, is refused."""
    url, rt = live
    cid, _ = _victims_consent(url, rt)
    evil = {"Origin": "https://evil.example"}
    with closing(cabinet(url, VICTIM)) as browser:
        token = browser.headers.pop("X-CSRF-Token")
        browser.headers.pop("Origin")
        answers = {
            "sign, no token": browser.post(
                f"/sign/{cid}", data={"decision": "sign", "read": "1"}, headers=evil
            ),
            "sign, token, foreign origin": browser.post(
                f"/sign/{cid}",
                data={"csrf_token": token, "decision": "sign", "read": "1"},
                headers=evil,
            ),
            "refuse, no token": browser.post(
                f"/sign/{cid}", data={"decision": "refuse", "confirm": "1"}, headers=evil
            ),
            "approve API, no token": browser.post(
                f"/api/v1/consents/{cid}/approve",
                json={"document_sha256": "0" * 64},
                headers={"Origin": origin_of(url)},
            ),
            "access request, foreign origin": browser.post(
                "/api/v1/me/access-requests", headers={**evil, "X-CSRF-Token": token}
            ),
        }
        for name, r in answers.items():
            assert r.status_code == 403, (name, r.status_code, r.text[:300])
        # a script on another origin cannot read the answers: no CORS grant
        read = browser.get("/api/v1/me/transfers", headers=evil)
        assert "access-control-allow-origin" not in read.headers
        assert "access-control-allow-credentials" not in read.headers
        mine = browser.get("/api/v1/me/requests").json()["requests"]
        assert {r["id"]: r["state"] for r in mine}[cid] == "requested"
    from consent import repository

    with session_scope(rt.sessionmaker) as s:
        assert repository.get_consent(s, uuid.UUID(cid)).state == "requested"


def test_public_pages_need_no_login_and_name_no_one(live):
    url, _ = live
    for path in ("/", "/policy", "/api/v1/messages"):
        r = httpx.get(url + path, timeout=30)
        assert r.status_code == 200, path
        assert "Соколова" not in r.text and "Волков" not in r.text, path
    for path in ("/cabinet", f"/sign/{uuid.uuid4()}", f"/consents/{uuid.uuid4()}/receipt"):
        r = httpx.get(url + path, timeout=30)
        assert r.status_code == 302 and r.headers["location"].startswith("/login"), path
