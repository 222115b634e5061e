"""Findings of the adversarial review of issue 12 (authority), kept as regression tests.

Each test failed on the first implementation and passes since its fix: a code issued just before
an application's access was revoked, a blank scope without the screen, children's data through a
token without the ``children`` scope, art. 14 answers through ``consents.read``, a child under
14 deleting their face alone, another operator's blanket block, deep JSON in a JWS, a hostile
nonce or ``max_age``, a transfer ticket as ``id_token_hint``, the signed PDF through a token.
Over real HTTP (a live server with the ESIA simulator and its demo people) unless the finding is
in code reached only through a test principal (biometrics harness). Nothing here mocks
Propusk's code.
"""

from __future__ import annotations

import base64
import json
import uuid
from urllib.parse import urlencode

import httpx
import pytest
from jose import jwt as jose_jwt
from sqlalchemy import text

from propusk.db import session_scope, utcnow
from tests.biometrics.harness import years_ago
from tests.browsing import authorize, login_fresh, query_of
from tests.idp.oidc.helpers import (
    REDIRECT,
    authorize_params,
    exchange,
    first_party,
    make_client,
    pkce,
)
from tests.support.servers import demo_server

PARENT = "1000400016"  # Смирнов Дмитрий: confirmed account, parent of Артём
CHILD = "1000400006"  # Смирнов Артём, born 2016: under 14


@pytest.fixture
def live(sim_server):
    """A real server with the ESIA simulator mounted and its demo people: (url, runtime)."""
    return sim_server


def _person_id(rt, oid: str) -> str:
    from idp import identity

    with session_scope(rt.sessionmaker) as s:
        return str(identity.get_person_by_oid(s, oid).id)


def _rp_token(url: str, rt, scope: str, oid: str = PARENT, client_scopes=None) -> str:
    """A relying party's access token for ``oid``: the person allows ``scope`` on the screen."""
    client_id, secret = make_client(rt, scopes=client_scopes or scope.split())
    with httpx.Client(base_url=url, timeout=60) as browser:
        query, verifier = authorize(browser, url, client_id, REDIRECT, oid, scope)
        r = exchange(browser, client_id, secret, query["code"], verifier)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- 1. hostile input: nested JSON inside a JWS segment ------------------------------------


def test_a_jws_with_deeply_nested_json_is_refused_not_a_500(live):
    """Anyone: a compact JWS whose header or payload is ``[[[[…`` (5000 levels) reaches
    ``json.loads`` in ``keys.parse_jws``; the RecursionError is not a ValueError, so every
    route that parses a JWS answers 500: any bearer route (resolver), the gated pull lane,
    userinfo, logout's id_token_hint, the verification page and API, and a private_key_jwt
    client assertion at the token endpoint."""
    url, _ = live
    deep_header = _b64(b"[" * 5000) + ".e30.AA"
    deep_payload = _b64(json.dumps({"alg": "ES256", "kid": "k"}).encode())
    deep_payload += "." + _b64(b"[" * 5000) + ".AA"
    assertion = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    subject = uuid.uuid4()
    attempts = {
        "bearer on /api/v1/me/consents": lambda: httpx.get(
            url + "/api/v1/me/consents", headers=_bearer(deep_header)
        ),
        "bearer on the gated pull": lambda: httpx.get(
            f"{url}/api/v1/subjects/{subject}/data",
            params={"purpose": "attestation.online", "categories": "person.fullname"},
            headers=_bearer(deep_header),
        ),
        "userinfo": lambda: httpx.get(url + "/oauth2/userinfo", headers=_bearer(deep_header)),
        "logout id_token_hint": lambda: httpx.get(
            url + "/oauth2/logout", params={"id_token_hint": deep_header}
        ),
        "verification page": lambda: httpx.post(url + "/verify", data={"receipt": deep_header}),
        "verification API": lambda: httpx.post(
            url + "/api/v1/consents/verify", json={"receipt": deep_payload}
        ),
        "client assertion": lambda: httpx.post(
            url + "/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": assertion,
                "client_assertion": deep_payload,
            },
        ),
    }
    answers = {name: attempt().status_code for name, attempt in attempts.items()}
    assert all(status < 500 for status in answers.values()), answers


# --- 2. the consent screen skipped with an empty scope ------------------------------------


def test_an_empty_scope_does_not_issue_a_code_without_the_screen(live):
    """A relying party the person never allowed sends ``scope=%20`` with ``prompt=none``:
    ``appgrants.covers`` finds the empty set covered, no screen is shown, and the code yields an
    access token whose ``sub`` is the person's id (a silent, cross-RP stable identifier) — a
    token family the cabinet never lists, so the person cannot revoke it."""
    url, rt = live
    client_id, secret = make_client(rt, scopes=["openid", "profile"])
    with httpx.Client(base_url=url, timeout=60) as browser:
        login_fresh(browser, url, PARENT, "/cabinet")  # the person is logged in to Propusk
        verifier, challenge = pkce()
        params = authorize_params(client_id, challenge, scope=" ", prompt="none")
        r = browser.get("/oauth2/authorize?" + urlencode(params), follow_redirects=False)
        assert r.status_code == 302, r.text
        query = query_of(r.headers["location"])
        if "code" in query:  # show what the relying party got, then fail
            tokens = exchange(browser, client_id, secret, query["code"], verifier).json()
            sub = jose_jwt.get_unverified_claims(tokens["access_token"])["sub"]
            assert sub != _person_id(rt, PARENT), "a token naming the person, never allowed"
        assert "code" not in query, query
        assert query.get("error") in ("consent_required", "invalid_scope"), query


# --- 3. a code in flight outlives the application's revocation ---------------------------


def test_a_code_issued_before_the_application_was_revoked_yields_no_tokens(live):
    """The person revokes the application in the cabinet while a code of it is unredeemed
    (``auth_code_ttl`` 60 s): the code is still exchanged for a working access token and a
    refresh token (30 days, rotating), and the application no longer appears in «Приложения с
    доступом», so the person cannot even revoke it again."""
    url, rt = live
    client_id, secret = make_client(rt, scopes=["openid", "data.read", "offline_access"])
    scope = "openid data.read offline_access"
    with httpx.Client(base_url=url, timeout=60) as browser:
        authorize(browser, url, client_id, REDIRECT, PARENT, scope)  # allowed on the screen
        query, verifier = authorize(browser, url, client_id, REDIRECT, PARENT, scope)  # silent
        first_party(browser)
        out = browser.delete(f"/api/v1/me/applications/{client_id}")
        assert out.status_code == 200, out.text
        late = exchange(browser, client_id, secret, query["code"], verifier)
        listed = [a["client_id"] for a in browser.get("/api/v1/me/applications").json()]
    held = {}
    if late.status_code == 200:  # what the relying party now holds
        refreshed = httpx.post(
            url + "/oauth2/token",
            auth=(client_id, secret),
            data={"grant_type": "refresh_token", "refresh_token": late.json()["refresh_token"]},
        )
        data = httpx.get(url + "/api/v1/me/data", headers=_bearer(late.json()["access_token"]))
        held = {"refresh": refreshed.status_code, "/me/data": data.status_code, "listed": listed}
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant", held


# --- 4. a token reaches the children without the children scope ---------------------------


def test_a_relying_partys_token_reaches_the_children_only_with_the_children_scope(live):
    """The screen for ``openid data.read consents.read obligations.read`` says «читать ваши
    персональные данные», «просматривать ваши согласия» and never mentions the children, yet
    the token reads the under-14 child's decrypted data, consents and demands through
    ``?subject=<child>`` (the issue: children only with their scope and the screen's grant)."""
    url, rt = live
    token = _rp_token(url, rt, "openid data.read consents.read obligations.read")
    child = _person_id(rt, CHILD)
    assert httpx.get(url + "/api/v1/me/data", headers=_bearer(token)).status_code == 200  # own
    answers = {}
    for path in ("/api/v1/me/data", "/api/v1/me/consents", "/api/v1/me/obligations"):
        r = httpx.get(url + path, params={"subject": child}, headers=_bearer(token))
        answers[path] = (r.status_code, r.json().get("type", ""))
    assert all(
        status == 403 and kind.endswith("/insufficient-scope") for status, kind in answers.values()
    ), answers


# --- 5. consents.read reads the transfer history and closes an art. 14 request ------------


def test_an_access_request_answer_needs_transfers_read_and_is_not_closed_by_a_token(live):
    """The person files an art. 14 request in the cabinet. A relying party holding only
    ``consents.read obligations.read`` (no ``transfers.read``) finds its id in ``/me/obligations``
    and GETs ``/api/v1/access-requests/{id}``: it receives ``recipients`` (every transfer: to
    whom, when, which categories — what ``transfers.read`` guards) and ``data_held``, and that
    GET marks the request answered and closes its 10-working-day clock though the person never
    saw the answer."""
    url, rt = live
    token = _rp_token(url, rt, "openid consents.read obligations.read")
    with httpx.Client(base_url=url, timeout=60) as browser:
        login_fresh(browser, url, PARENT, "/cabinet")
        first_party(browser)
        filed = browser.post("/api/v1/me/access-requests")
        assert filed.status_code == 201, filed.text
        request_id = filed.json()["id"]
        read = httpx.get(f"{url}/api/v1/access-requests/{request_id}", headers=_bearer(token))
        mine = browser.get("/api/v1/me/obligations").json()["obligations"]
    (obligation,) = [o for o in mine if o["access_request_id"] == request_id]
    assert read.status_code == 403 or "recipients" not in read.json(), sorted(read.json())
    assert obligation["status"] == "open" and obligation["closed_at"] is None, obligation


# --- 6. a child under 14 deletes (or enrols) their face alone -----------------------------


def test_a_child_under_14_cannot_delete_or_enrol_their_face_alone(bio, db_url):
    """``biometrics.enrolment.acting_for`` calls ``consent.representation.subjects_for`` without
    an act, i.e. ``read`` — the one act a child under 14 may do alone — so the child deletes the
    face template their parent enrolled under the parent's written consent (and could enrol one).
    Representation (docs/security.md): under 14 the representative alone."""
    from tests.biometrics import photos

    url = "/api/v1/biometrics/enrolments"
    parent, (child,) = bio.person(years_ago(40), children=(years_ago(10),))
    bio.consent(child, "biometric", parent)
    files = [("photos", ("a.jpg", photos.raw("obama/obama_1.jpg"), "image/jpeg"))]
    by_parent = bio.client.post(
        url, files=files, data={"subject_id": str(child)}, headers=bio.headers(parent)
    )
    assert by_parent.status_code == 201, by_parent.text
    deleted = bio.client.delete(f"{url}/{child}", headers=bio.headers(child))
    with bio.runtime.engine.connect() as conn:
        key = child.hex if bio.runtime.engine.dialect.name == "sqlite" else child
        kept = conn.execute(
            text("SELECT count(*) FROM biometric_template WHERE person_id = :p"), {"p": key}
        ).scalar()
    enrolled = bio.client.post(url, files=files, headers=bio.headers(child))
    assert deleted.status_code == 403, deleted.text
    assert deleted.json()["type"].endswith("/representative-required")
    assert kept == 1
    assert enrolled.status_code == 403 and enrolled.json()["type"].endswith(
        "/representative-required"
    ), enrolled.text


# --- 7. /login with a huge max_age --------------------------------------------------------


def test_login_with_a_huge_max_age_is_not_a_500(live):
    """A logged-in person (or a link a third-party page makes the browser open) with
    ``/login?max_age=10**15``: ``timedelta(seconds=...)`` overflows in ``first_party_login``."""
    url, _ = live
    with httpx.Client(base_url=url, timeout=60) as browser:
        login_fresh(browser, url, PARENT, "/cabinet")
        r = browser.get("/login", params={"max_age": str(10**15), "next": "/cabinet"})
    assert r.status_code < 500, r.text


# --- 8. the authorization endpoint stores an unchecked nonce (PostgreSQL) ----------------


@pytest.fixture
def live_pg(pg_url):
    yield from demo_server(pg_url)


@pytest.mark.parametrize("nonce", ["a\x00b", "n" * 600])
def test_a_hostile_nonce_is_an_oauth_error_not_a_500(live_pg, nonce):
    """``nonce`` goes unchecked into ``oidc_auth_code.nonce`` (``String(500)``): on PostgreSQL a
    NUL or a value over 500 characters is a DataError, a 500 at /oauth2/authorize for a
    logged-in person (or at /oauth2/authorize/decision after the screen)."""
    url, rt = live_pg
    client_id, _ = make_client(rt, scopes=["openid", "profile"])
    with httpx.Client(base_url=url, timeout=60) as browser:
        authorize(browser, url, client_id, REDIRECT, PARENT, "openid profile")  # allowed once
        _, challenge = pkce()
        params = authorize_params(client_id, challenge, scope="openid profile", nonce=nonce)
        r = browser.get("/oauth2/authorize?" + urlencode(params), follow_redirects=False)
    assert r.status_code < 500, r.text


# --- 9. any JWS of ours with a sub and an aud is taken as an id_token_hint ----------------


def test_only_an_id_token_ends_the_session_without_asking(live):
    """``routes._hint_claims`` refuses only ``typ: at+jwt``: a transfer ticket (``typ:
    transfer-ticket+jwt``, ``sub`` = the participant, ``aud`` = an operator), which a supplier
    gets from ``POST /api/v1/transfers/tickets``, passes as the person's id_token_hint, so the
    supplier's page logs the participant out of Propusk with a bare GET, no confirmation."""
    from consent import receipts

    url, rt = live
    with httpx.Client(base_url=url, timeout=60) as browser:
        login_fresh(browser, url, PARENT, "/cabinet")  # the person exists from the first login
        person = _person_id(rt, PARENT)
        now = utcnow()
        payload = receipts.ticket_payload(
            rt.settings,
            ticket_id=uuid.uuid4(),
            supplier_id=uuid.uuid4(),
            operator_id=uuid.uuid4(),
            subject_id=uuid.UUID(person),
            purpose="attestation.online",
            categories=["person.fullname"],
            consent_ids=[uuid.uuid4()],
            issued_at=now,
            expires_at=now,
        )
        with session_scope(rt.sessionmaker) as s:
            ticket = receipts.sign(s, rt.settings, payload, receipts.TICKET_TYP)
        r = browser.get("/oauth2/logout", params={"id_token_hint": ticket})
        still = browser.get("/api/v1/session").status_code
    assert still == 200, "logged out by a transfer ticket"
    assert r.status_code == 400 or "Выйти из Пропуска?" in r.text, r.text


# --- 10. consents.read hands over the signed PDF: identity beyond what the screen says -----


def test_consents_read_does_not_hand_over_the_signed_document_with_the_esia_oid(live):
    """The person signs a consent on the signing page; a relying party granted only ``openid
    consents.read`` («просматривать ваши согласия», no ``profile``) downloads the signed PDF:
    full name, birth date and the ESIA account id (which ``idp.claims.claims_for`` never puts
    in a token) of the signer — and, for a child's consent, of the representative too."""
    import io

    from pypdf import PdfReader

    from tests.browsing import cabinet, sign_on_page
    from tests.support.consent_world import request_consent, signing_operator

    url, rt = live
    op = signing_operator(rt, form="any")
    browser = cabinet(url, PARENT)
    try:
        consent_id = request_consent(url, rt, op, PARENT)
        signed = sign_on_page(browser, url, consent_id)
        assert signed.status_code == 303, signed.text  # to the result page (post/redirect/get)
        (signature,) = browser.get(f"{url}/api/v1/consents/{consent_id}").json()["signatures"]
    finally:
        browser.close()
    token = _rp_token(url, rt, "openid consents.read")
    pdf_url = f"{url}/api/v1/consents/{consent_id}/documents/{signature['document_id']}.pdf"
    r = httpx.get(pdf_url, headers=_bearer(token))
    leaked = ""
    if r.status_code == 200:
        reader = PdfReader(io.BytesIO(r.content))
        leaked = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert PARENT not in leaked and "05.10.1985" not in leaked, leaked[:300]
    assert r.status_code == 403, r.status_code


# --- 11. another operator blocks every operator's transfers of any participant -------------


def test_an_operator_cannot_block_another_operators_transfers_of_a_stranger(world):
    """Operator B, with no consent, request or relation to the participant, records
    «unlawful processing» for them (``POST /api/v1/obligations/unlawful``): ``record_unlawful``
    places a block with ``operator_id=None`` — for *every* operator — so operator A's transfers
    under the participant's given consent are refused (``processing_blocked``) and the
    participant is told their data are processed unlawfully, on B's word alone."""
    h = world.h
    subject, _ = h.person(years_ago(30))
    c = h.request(world.op_h, world.tpl["id"], subject, categories=["education.grades"])
    h.act(subject, c["id"], "approve")
    assert h.pull(world.op_h, subject, "education.grades").status_code == 200
    other = h.org_client(h.organization("operator")["id"], "operator")
    body = {"subject_id": str(subject), "categories": ["education.grades"], "reason": "x"}
    recorded = h.client.post("/api/v1/obligations/unlawful", json=body, headers=other)
    pulled = h.pull(world.op_h, subject, "education.grades")
    assert pulled.status_code == 200, (recorded.status_code, pulled.text)
