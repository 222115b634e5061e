"""The platform administrator's console (issue 15) over real HTTP: who may not administer.

Every route the console calls — the new ones (organisations list, secret rotation, audit status
and verification, names) and those it reuses — is asked by operator staff, a school admin, a
parent, a relying party holding the platform administrator's own access token (delegation:
administration is never delegable), an operator's client, an anonymous visitor, and by the
administrator's own logged-in browser posting from another site without the CSRF token. None
of them reads or changes anything. Then the administrator does it all, and the rotated secret
is the only one that works. A live server with the ESIA simulator and its demo people on
PostgreSQL; nothing here mocks Propusk's code.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import closing

import httpx
import pytest

from consent import parties
from propusk.db import session_scope
from tests.browsing import authorize, cabinet, origin_of
from tests.idp.oidc.helpers import REDIRECT, exchange, make_client, org_client
from tests.support.consent_world import inn10, ogrn13, org_fields
from tests.support.servers import demo_server

ADMIN = "1000400027"  # Петров: the fixture's platform administrator
STAFF = "1000400026"  # Егорова: operator staff of ГБУ ТО «РЦЦО» (ESIA /roles)
DIRECTOR = "1000400001"  # school admin of school No. 17
PARENT = "1000400016"  # Смирнов Дмитрий
NOBODY = str(uuid.uuid4())


@pytest.fixture(scope="module")
def live(pg_database) -> Iterator[tuple[str, object]]:
    """One live server for the module, on the session's PostgreSQL database."""
    yield from demo_server(pg_database)


def _routes(org_id: str, client_id: str) -> list[tuple[str, str, dict | None]]:
    """(method, path, JSON body) of every call the console makes; bodies valid for an admin."""
    return [
        ("GET", "/api/v1/organizations", None),
        ("GET", f"/api/v1/organizations/{org_id}", None),
        ("POST", "/api/v1/organizations", org_fields(name="ООО «Чужая»")),
        ("GET", "/api/v1/clients", None),
        ("POST", "/api/v1/clients", {"name": "чужое", "grant_types": ["client_credentials"]}),
        ("POST", f"/api/v1/clients/{client_id}/secret", None),
        ("PUT", f"/api/v1/clients/{client_id}/binding", {"organization_id": None, "role": None}),
        ("DELETE", f"/api/v1/clients/{client_id}", None),
        ("GET", "/api/v1/policy", None),
        ("GET", "/api/v1/policy/history", None),
        (
            "POST",
            "/api/v1/policy/rules",
            {"role": "parent", "domain": "*", "object": "policy", "action": "write"},
        ),
        ("DELETE", f"/api/v1/policy/rules/{uuid.uuid4()}", None),
        (
            "GET",
            "/api/v1/policy/explain?subject=client:x&object=policy&action=write&domain=*",
            None,
        ),
        ("GET", f"/api/v1/names?key=client:{client_id}&key=org:{org_id}", None),
        ("GET", "/api/v1/obligations/overdue", None),
        ("GET", "/api/v1/audit/status", None),
        ("POST", "/api/v1/audit/verify", None),
    ]


@pytest.fixture(scope="module")
def targets(live) -> tuple[str, str, str, str]:
    """A registered operator with its bound client (what the attackers aim at): (org id, its
    client id, the client's secret, the client's name)."""
    _, rt = live
    with session_scope(rt.sessionmaker) as s:
        org = parties.register_organization(s, org_fields(name="ООО «Мишень»"), actor="test")
        row, secret = org_client(s, org.id, prefix="мишень")
        return str(org.id), row.client_id, secret, row.name


def _client_token(url: str, client_id: str, secret: str) -> httpx.Response:
    return httpx.post(
        url + "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=30,
    )


def _admin_rp_token(url: str, rt) -> str:
    """A relying party's token for the platform administrator (he allowed it on the screen)."""
    scope = "openid profile consents.read transfers.read"
    client_id, secret = make_client(rt, scopes=scope.split())
    with httpx.Client(base_url=url, timeout=60) as browser:
        query, verifier = authorize(browser, url, client_id, REDIRECT, ADMIN, scope)
        r = exchange(browser, client_id, secret, query["code"], verifier)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def _nothing_changed(url: str, targets) -> None:
    org_id, client_id, secret, _ = targets
    assert _client_token(url, client_id, secret).status_code == 200  # secret and client intact
    with closing(cabinet(url, ADMIN)) as admin:
        clients = {c["client_id"]: c for c in admin.get("/api/v1/clients").json()}
        assert clients[client_id]["organization_id"] == org_id
        names = {o["name"] for o in admin.get("/api/v1/organizations").json()["organizations"]}
        assert "ООО «Чужая»" not in names
        assert not any(c["name"] == "чужое" for c in clients.values())
        rules = admin.get("/api/v1/policy").json()["rules"]
        assert not any(r["role"] == "parent" and r["object"] == "policy" for r in rules)


def _refused_all(http: httpx.Client, routes, statuses: tuple[int, ...], secret_words=()) -> None:
    for method, path, body in routes:
        r = http.request(method, path, json=body)
        assert r.status_code in statuses, (method, path, r.status_code, r.text[:300])
        assert r.headers["content-type"].startswith("application/problem+json"), (path, r.text)
        for word in secret_words:
            assert word not in r.text, (path, word)


@pytest.mark.parametrize("oid", [STAFF, DIRECTOR, PARENT], ids=["staff", "director", "parent"])
def test_people_without_the_status_administer_nothing(live, targets, oid):
    url, _ = live
    org_id, client_id, _, name = targets
    with closing(cabinet(url, oid)) as person:
        _refused_all(person, _routes(org_id, client_id), (403,), (name, "ООО «Мишень»"))
        page = person.get("/admin")  # the shell loads; its data is refused (above)
        assert page.status_code == 200 and name not in page.text
    _nothing_changed(url, targets)


def test_a_relying_party_holding_the_admins_token_administers_nothing(live, targets):
    url, rt = live
    org_id, client_id, _, name = targets
    token = _admin_rp_token(url, rt)
    with httpx.Client(base_url=url, timeout=60) as rp:
        rp.headers["Authorization"] = f"Bearer {token}"
        assert rp.get("/api/v1/me/consents").status_code == 200  # the token works …
        _refused_all(rp, _routes(org_id, client_id), (403,), (name,))  # … not for this
    _nothing_changed(url, targets)


def test_an_operators_client_administers_nothing(live, targets):
    url, _ = live
    org_id, client_id, secret, name = targets
    token = _client_token(url, client_id, secret).json()["access_token"]
    with httpx.Client(base_url=url, timeout=60) as operator:
        operator.headers["Authorization"] = f"Bearer {token}"
        routes = [r for r in _routes(org_id, client_id) if r[1] != "/api/v1/obligations/overdue"]
        _refused_all(operator, routes, (403,), (name,))
        # its own register only: the overdue list of another operator is not its to read
        own = operator.get("/api/v1/obligations/overdue")
        assert own.status_code == 200
        assert all(o["operator_id"] == org_id for o in own.json()["overdue"])
    _nothing_changed(url, targets)


def test_an_anonymous_visitor_administers_nothing(live, targets):
    url, _ = live
    org_id, client_id, _, name = targets
    with httpx.Client(base_url=url, timeout=60) as anonymous:
        _refused_all(anonymous, _routes(org_id, client_id), (401,), (name,))
        page = anonymous.get("/admin")
        assert page.status_code == 302 and page.headers["location"] == "/login?next=/admin"
    _nothing_changed(url, targets)


def test_a_cross_site_post_with_the_admins_cookie_changes_nothing(live, targets):
    """The administrator is logged in; a page elsewhere sends the console's state changes (the
    cookie goes along) without the CSRF token, or with it from another origin."""
    url, _ = live
    org_id, client_id, _, name = targets
    unsafe = [r for r in _routes(org_id, client_id) if r[0] != "GET"]
    with closing(cabinet(url, ADMIN)) as browser:
        token = browser.headers.pop("X-CSRF-Token")
        browser.headers["Origin"] = "https://evil.example"
        _refused_all(browser, unsafe, (403,), (name,))
        browser.headers["X-CSRF-Token"] = token
        _refused_all(browser, unsafe, (403,), (name,))
        browser.headers.pop("X-CSRF-Token")
        browser.headers["Origin"] = origin_of(url)
        _refused_all(browser, unsafe, (403,), (name,))
    _nothing_changed(url, targets)


def test_the_admin_rotates_a_secret_and_only_the_new_one_works(live):
    url, rt = live
    with closing(cabinet(url, ADMIN)) as admin:
        org = admin.post("/api/v1/organizations", json=org_fields(name="ООО «Ротация»"))
        assert org.status_code == 201, org.text
        made = admin.post(
            "/api/v1/clients",
            json={
                "name": "Сервер «Ротации»",
                "grant_types": ["client_credentials"],
                "organization_id": org.json()["id"],
                "role": "operator",
            },
        )
        assert made.status_code == 201, made.text
        client_id, old = made.json()["client_id"], made.json()["client_secret"]
        assert _client_token(url, client_id, old).status_code == 200
        rotated = admin.post(f"/api/v1/clients/{client_id}/secret")
        assert rotated.status_code == 200, rotated.text
        new = rotated.json()["client_secret"]
        assert new != old and rotated.json()["client_id"] == client_id
        assert _client_token(url, client_id, old).status_code == 401
        assert _client_token(url, client_id, new).status_code == 200
        listed = next(c for c in admin.get("/api/v1/clients").json() if c["client_id"] == client_id)
        assert "client_secret" not in listed and new not in admin.get("/api/v1/clients").text
        missing = admin.post(f"/api/v1/clients/{NOBODY}/secret")
        assert missing.status_code == 404, missing.text
        names = admin.get("/api/v1/names", params={"key": [f"client:{client_id}", "org:zz"]})
        assert names.json() == {"names": {f"client:{client_id}": "Сервер «Ротации»"}}
    from audit import service as audit

    with session_scope(rt.sessionmaker) as s:
        events = audit.events_for_subject(s, f"client:{client_id}", ["client.secret_rotated"])
        assert len(events) == 1 and new not in str(events[0].body) and old not in str(events)


def test_a_keyless_client_has_no_secret_to_rotate(live):
    url, rt = live
    client_id, _ = make_client(rt, auth_method="none", scopes=["openid"])
    with closing(cabinet(url, ADMIN)) as admin:
        r = admin.post(f"/api/v1/clients/{client_id}/secret")
        assert r.status_code == 409 and r.json()["type"].endswith("/client-without-secret")


def test_the_registry_checks_the_numbers_and_storage(live):
    url, _ = live
    with closing(cabinet(url, ADMIN)) as admin:
        inn = inn10()
        wrong = inn[:-1] + str((int(inn[-1]) + 1) % 10)
        answers = {
            "invalid-inn": org_fields(inn=wrong),
            "invalid-ogrn": org_fields(ogrn=ogrn13()[:-1] + "x"),
            "storage-outside-russia": org_fields(storage_country="DE"),
        }
        for expected, body in answers.items():
            r = admin.post("/api/v1/organizations", json=body)
            assert r.status_code == 422, (expected, r.text)
            if expected != "invalid-ogrn":  # a letter fails the pattern first: a field error
                assert r.json()["type"].endswith("/" + expected), r.text
            else:
                assert r.json()["errors"][0]["loc"][-1] == "ogrn"
        abroad = admin.post(
            "/api/v1/organizations",
            json=org_fields(name="ООО «За рубежом»", country="KZ", cross_border_notice_ref="№ 1"),
        )
        assert abroad.status_code == 201, abroad.text
        listed = {o["id"]: o for o in admin.get("/api/v1/organizations").json()["organizations"]}
        assert listed[abroad.json()["id"]]["country"] == "KZ"
        assert listed[abroad.json()["id"]]["storage_country"] == "RU"
