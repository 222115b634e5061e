"""The whole chain over real HTTP: RP → Propusk → ESIA simulator → Propusk → RP.

A real uvicorn server with the simulator mounted and the demo seed (school No. 17, its roster,
the operator). The "RP" is an httpx client that runs the code flow with PKCE, redeems the code
at the token endpoint and verifies the ID token against the JWKS with python-jose (an
independent JOSE implementation). Statuses come from ESIA roles (director), the roster matched
at login (student) and guardianship of a student (parent). Failed ESIA logins leave the
people/status/guardianship tables untouched.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from jose import jwt
from sqlalchemy import func, select

from idp import demo
from idp.models import Guardianship, Person, Status
from propusk.db import session_scope
from tests.browsing import answer_consent_screen, cabinet, to_screen
from tests.support.servers import start_live_server

REDIRECT = "https://rp.example/cb"
DIRECTOR = "1000400001"  # chief of school No. 17 in ESIA /roles
STUDENT = "1000400006"  # Смирнов Артём, 7А on the roster
PARENT = "1000400016"  # ESIA /kids: Смирнов Артём
OPERATOR_STAFF = "1000400026"  # employee of the registered operator
NEVER_SEEN = "1000400028"  # used only by the failure tests


@dataclass
class Stack:
    url: str
    runtime: object
    client_id: str
    secret: str
    school_id: str


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def stack(request) -> Iterator[Stack]:
    db_url = (
        request.getfixturevalue("pg_database")
        if request.param == "postgres"
        else request.getfixturevalue("sqlite_database")
    )
    server, rt = start_live_server(db_url, upstream="simulator", demo=True)
    try:
        from idp.oidc import clients

        with session_scope(rt.sessionmaker) as s:
            ids = demo.seed(s, rt.settings)
            row, secret = clients.create_client(
                s,
                name="e2e-rp-" + secrets.token_hex(4),
                grant_types=["authorization_code"],
                redirect_uris=[REDIRECT],
            )
        school_oid = next(
            o["oid"] for o in demo.load_fixture()["organizations"] if o["kind"] == "school"
        )
        yield Stack(server.url, rt, row.client_id, secret, str(ids[school_oid]))
    finally:
        server.stop()
        rt.dispose()


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _start(stack: Stack, browser: httpx.Client, scope: str) -> tuple[httpx.Response, dict, str]:
    """RP → /oauth2/authorize → redirect to the simulator's v2/ac (not yet followed)."""
    verifier, challenge = _pkce()
    params = {
        "response_type": "code",
        "client_id": stack.client_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    r = browser.get(stack.url + "/oauth2/authorize?" + urlencode(params))
    assert r.status_code in (302, 303), r.text
    assert "/esia-sim/aas/oauth2/v2/ac?" in r.headers["location"]
    return r, params, verifier


def _choose(browser: httpx.Client, ac_url: str, oid: str | None, deny: bool = False):
    """The simulator's login page: pick a demo person (or refuse); returns its redirect."""
    page = browser.get(ac_url)
    assert page.status_code == 200, page.text
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    rid = re.search(r'name="rid" value="([^"]+)"', page.text).group(1)
    data = {"rid": rid, "deny": "1"} if deny else {"rid": rid, "oid": oid}
    r = browser.post(httpx.URL(ac_url).join(action), data=data)
    assert r.status_code in (302, 303), r.text
    return r


def login(stack: Stack, oid: str, scope: str = "openid profile school") -> dict:
    """Full chain; returns the token response (ID token verified by the caller)."""
    with httpx.Client(timeout=60) as browser:
        r, params, verifier = _start(stack, browser, scope)
        back = _choose(browser, r.headers["location"], oid)
        assert "/login/esia/callback?" in back.headers["location"]
        done = browser.get(back.headers["location"])
        done = to_screen(browser, stack.url, done)
        if done.status_code == 200:  # the consent screen: the person allows the e-diary
            done = answer_consent_screen(browser, stack.url, done)
        assert done.status_code in (302, 303), done.text
        assert done.headers["location"].startswith(REDIRECT + "?")
        query = _query(done.headers["location"])
        assert query["state"] == params["state"] and query["iss"] == stack.url
        tokens = httpx.post(
            stack.url + "/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": query["code"],
                "redirect_uri": REDIRECT,
                "code_verifier": verifier,
            },
            auth=(stack.client_id, stack.secret),
            timeout=30,
        )
        assert tokens.status_code == 200, tokens.text
        body = tokens.json()
        body["_nonce"] = params["nonce"]
        return body


def id_claims(stack: Stack, tokens: dict) -> dict:
    jwks = httpx.get(stack.url + "/jwks.json", timeout=10)
    if jwks.status_code == 404:
        jwks = httpx.get(
            httpx.get(stack.url + "/.well-known/openid-configuration").json()["jwks_uri"]
        )
    header = jwt.get_unverified_header(tokens["id_token"])
    key = next(k for k in jwks.json()["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(
        tokens["id_token"],
        key,
        algorithms=["ES256", "RS256"],  # ours, not whatever the token's header says
        audience=stack.client_id,
        issuer=stack.url,
        access_token=tokens.get("access_token"),
    )
    assert claims["nonce"] == tokens["_nonce"]
    return claims


def _statuses(claims: dict) -> list[tuple[str, str, str | None]]:
    return sorted((s["school_id"], s["role"], s.get("class")) for s in claims["school_statuses"])


def test_student_logs_in_with_roster_status(stack):
    claims = id_claims(stack, login(stack, STUDENT))
    assert _statuses(claims) == [(stack.school_id, "student", "7А")]
    assert claims["age_group"] == "under14"
    assert claims["family_name"] == "Смирнов"
    assert "esia_oid" not in claims and "snils" not in claims
    assert claims["sub"] != STUDENT


def test_parent_sees_children_and_parent_status(stack):
    assert "children" not in id_claims(stack, login(stack, PARENT))  # not asked, not told
    tokens = login(stack, PARENT, "openid profile school children")
    claims = id_claims(stack, tokens)
    assert _statuses(claims) == [(stack.school_id, "parent", None)]
    assert claims["age_group"] == "adult"
    assert [(c["name"], c["age_group"]) for c in claims["children"]] == [
        ("Смирнов Артём Дмитриевич", "under14")
    ]
    headers = {"Authorization": "Bearer " + tokens["access_token"]}
    children = httpx.get(stack.url + "/api/v1/me/children", headers=headers, timeout=10)
    assert children.status_code == 403, children.text  # Propusk's own API: not delegated
    userinfo = httpx.get(stack.url + "/oauth2/userinfo", headers=headers, timeout=10)
    if userinfo.status_code == 404:
        userinfo = httpx.get(
            httpx.get(stack.url + "/.well-known/openid-configuration").json()["userinfo_endpoint"],
            headers=headers,
        )
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.json()["school_statuses"] == claims["school_statuses"]


def test_director_is_school_admin_and_can_read_the_roster(stack):
    tokens = login(stack, DIRECTOR)
    claims = id_claims(stack, tokens)
    assert _statuses(claims) == [(stack.school_id, "school_admin", None)]
    headers = {"Authorization": "Bearer " + tokens["access_token"]}
    roster = httpx.get(f"{stack.url}/api/v1/schools/{stack.school_id}/roster", headers=headers)
    assert roster.status_code == 403, roster.text  # an e-diary's token does not administer
    assert roster.json()["type"].endswith("/not-delegable")
    browser = cabinet(stack.url, DIRECTOR)  # the director in Propusk's own console
    try:
        roster = browser.get(f"/api/v1/schools/{stack.school_id}/roster")
        assert roster.status_code == 200, roster.text
        assert len(roster.json()) == 13
    finally:
        browser.close()


def test_operator_staff_gets_no_school_status(stack):
    claims = id_claims(stack, login(stack, OPERATOR_STAFF))
    assert claims["school_statuses"] == []


# --- failures change nothing -------------------------------------------------------------


def _snapshot(stack: Stack) -> tuple:
    with session_scope(stack.runtime.sessionmaker) as s:
        counts = tuple(
            s.scalar(select(func.count()).select_from(m)) for m in (Person, Status, Guardianship)
        )
        refreshed = s.scalar(select(Person.esia_refreshed_at).where(Person.esia_oid == PARENT))
        absent = s.scalar(select(Person.id).where(Person.esia_oid == NEVER_SEEN)) is None
    return counts, refreshed, absent


def _tamper(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {**_query(url), **changes}
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.fixture(scope="module")
def parent_known(stack) -> None:
    """The parent has logged in once: a failed login must not refresh them either."""
    login(stack, PARENT)


@pytest.mark.parametrize("failure", ["denied", "bad_signature", "bad_code", "foreign_state"])
def test_failed_esia_login_writes_nothing(stack, parent_known, failure):
    before = _snapshot(stack)
    assert before[2], "the never-seen demo person must not exist yet"
    with httpx.Client(timeout=60) as browser:
        r, _, _ = _start(stack, browser, "openid profile school")
        ac_url = r.headers["location"]
        if failure == "denied":
            back = _choose(browser, ac_url, None, deny=True)
        elif failure == "bad_signature":
            secret = _query(ac_url)["client_secret"]
            forged = ("A" if secret[0] != "A" else "B") + secret[1:]
            back = browser.get(_tamper(ac_url, client_secret=forged))
        else:
            back = _choose(browser, ac_url, NEVER_SEEN)
            if failure == "bad_code":
                back.headers["location"] = _tamper(back.headers["location"], code="forged")
            else:
                back.headers["location"] = _tamper(back.headers["location"], state="other")
        location = back.headers["location"]
        assert "/login/esia/callback?" in location
        if failure in ("denied", "bad_signature"):
            assert "error=" in location
        done = browser.get(location)
        if failure == "foreign_state":  # no pending authorization known: a page for the person
            assert done.status_code == 400, done.text
            assert "Вход не выполнен" in done.text
        else:  # OIDC Core 3.1.2.6: the RP learns of the failure (error, state, iss)
            assert done.status_code == 302, done.text
            assert done.headers["location"].startswith(REDIRECT + "?error=")
    assert _snapshot(stack) == before


def test_first_party_login_then_own_profile_by_cookie(stack):
    """The web UI's own login (no OAuth client): /login → simulator → back; /api/v1/me works."""
    with httpx.Client(timeout=60, base_url=stack.url) as browser:
        r = browser.get("/login", params={"next": "/cabinet"})
        assert r.status_code in (302, 303) and "/esia-sim/" in r.headers["location"]
        back = _choose(browser, r.headers["location"], PARENT)
        done = browser.get(back.headers["location"])
        assert done.status_code in (302, 303), done.text
        assert done.headers["location"].endswith("/cabinet")
        me = browser.get("/api/v1/me")
        assert me.status_code == 200, me.text
        body = me.json()
        assert [(s["role"], s["school_id"]) for s in body["statuses"]] == [
            ("parent", stack.school_id)
        ]
        assert [c["name"] for c in body["children"]] == ["Смирнов Артём Дмитриевич"]
