"""End to end over real HTTP with real tokens: a parent and a 17-year-old log in through the
ESIA simulator (code flow + PKCE), the operator and supplier use client_credentials with
clients bound to their registered organisations; consent → transfer → receipt (verified with
python-jose against /jwks.json) → withdrawal → refusal and the feed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from idp import demo
from propusk.db import session_scope
from tests.conftest import start_live_server, verify_with_jwks
from tests.consent.conftest import TEMPLATE_TEXT, inn10, ogrn13

REDIRECT = "https://rp.example/cb"
PARENT = "1000400024"  # Волков; ESIA /kids: Волкова, born 11.02.2009
CHILD = "1000400013"


def _login(url: str, client_id: str, secret: str, oid: str) -> str:
    """The code flow through the simulator; returns the person's access token."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid profile school",
        "state": "s",
        "nonce": "n",
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    with httpx.Client(timeout=60) as browser:
        r = browser.get(url + "/oauth2/authorize?" + urlencode(params))
        ac = r.headers["location"]
        page = browser.get(ac)
        action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
        rid = re.search(r'name="rid" value="([^"]+)"', page.text).group(1)
        back = browser.post(httpx.URL(ac).join(action), data={"rid": rid, "oid": oid})
        done = browser.get(back.headers["location"])
        code = parse_qs(urlsplit(done.headers["location"]).query)["code"][0]
    tokens = httpx.post(
        url + "/oauth2/token",
        auth=(client_id, secret),
        timeout=30,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )
    assert tokens.status_code == 200, tokens.text
    return tokens.json()["access_token"]


def _client_token(url: str, client_id: str, secret: str) -> dict[str, str]:
    r = httpx.post(
        url + "/oauth2/token",
        auth=(client_id, secret),
        timeout=30,
        data={"grant_type": "client_credentials"},
    )
    assert r.status_code == 200, r.text
    return {"Authorization": "Bearer " + r.json()["access_token"]}


@pytest.fixture
def stack(db_url):
    server, rt = start_live_server(db_url, upstream="simulator", demo=True)
    try:
        yield server.url, rt
    finally:
        server.stop()
        rt.dispose()


def _parties(rt) -> dict:
    """An RP for logins, and operator/supplier clients bound to registered organisations."""
    from consent import service as consent
    from idp.oidc import service as oidc

    out = {}
    with session_scope(rt.sessionmaker) as s:
        demo.seed(s, rt.settings)
        consent.load_catalogue(s)
        rp, rp_secret = oidc.create_client(
            s,
            name="rp-" + secrets.token_hex(3),
            grant_types=["authorization_code"],
            redirect_uris=[REDIRECT],
        )
        out["rp"] = (rp.client_id, rp_secret)
        for kind in ("operator", "supplier"):
            row, secret = oidc.create_client(
                s, name=f"{kind}-{secrets.token_hex(3)}", grant_types=["client_credentials"]
            )
            org = consent.register_organization(
                s,
                {
                    "kind": kind,
                    "name": f"ООО {kind}",
                    "inn": inn10(),
                    "ogrn": ogrn13(),
                    "address": "Москва",
                    "storage_country": "RU",
                    "storage_location": "ЦОД",
                    "registry_number": "77-9",
                    "client_id": row.client_id,
                },
                actor="test",
            )
            out[kind] = (row.client_id, secret, str(org.id))
    return out


def test_consent_transfer_withdrawal_with_real_tokens(stack):
    from idp import service as idp

    url, rt = stack
    p = _parties(rt)
    parent = {"Authorization": "Bearer " + _login(url, *p["rp"], PARENT)}
    child = {"Authorization": "Bearer " + _login(url, *p["rp"], CHILD)}
    op = _client_token(url, *p["operator"][:2])
    sup = _client_token(url, *p["supplier"][:2])
    with session_scope(rt.sessionmaker) as s:
        child_id = str(idp.get_person_by_oid(s, CHILD).id)

    tpl = httpx.post(
        url + "/api/v1/consent/templates",
        headers=op,
        json={
            "key": "e2e.consent",
            "text": TEMPLATE_TEXT,
            "purpose": "attestation.online",
            "categories": ["person.fullname", "education.grades"],
            "actions": ["сбор", "хранение", "передача"],
            "processing_methods": ["automated"],
            "term_days": 365,
            "withdrawal_method": "в личном кабинете",
        },
    )
    assert tpl.status_code == 201, tpl.text
    req = httpx.post(
        url + "/api/v1/consent/requests",
        headers=op,
        # the consent names the supplier: the supplier may then write the child's data
        json={
            "template_id": tpl.json()["id"],
            "subject_id": child_id,
            "supplier_id": p["supplier"][2],
        },
    )
    assert req.status_code == 201, req.text
    cid = req.json()["id"]
    assert req.json()["age_rule"] == "14to17"

    r = httpx.post(f"{url}/api/v1/consents/{cid}/approve", headers=child)
    assert r.status_code == 200 and r.json()["state"] == "partially_given", r.text
    r = httpx.post(f"{url}/api/v1/consents/{cid}/approve", headers=parent)
    assert r.status_code == 200 and r.json()["state"] == "given", r.text

    r = httpx.put(
        f"{url}/api/v1/subjects/{child_id}/data/education.grades",
        headers=sup,
        json={"value": [{"math": 5}]},
    )
    assert r.status_code == 200, r.text
    pull = httpx.get(
        f"{url}/api/v1/subjects/{child_id}/data",
        headers=op,
        params={"purpose": "attestation.online", "categories": "education.grades,person.snils"},
    )
    assert pull.status_code == 200, pull.text
    assert pull.json()["data"] == {"education.grades": [{"math": 5}]}
    assert pull.json()["consent_ids"] == [cid]

    receipt = httpx.get(f"{url}/api/v1/consents/{cid}/receipt", headers=parent).json()
    jwks = httpx.get(url + "/jwks.json").json()
    claims = json.loads(verify_with_jwks(receipt["receipt"], jwks, ["ES256", "RS256"]))
    assert claims["consent_id"] == cid and claims["iss"] == url
    assert sorted(s["role"] for s in claims["signers"]) == ["guardian", "subject"]

    r = httpx.post(f"{url}/api/v1/consents/{cid}/withdraw", headers=parent)
    assert r.status_code == 200 and r.json()["state"] == "withdrawn", r.text
    pull = httpx.get(
        f"{url}/api/v1/subjects/{child_id}/data",
        headers=op,
        params={"purpose": "attestation.online", "categories": "education.grades"},
    )
    assert pull.status_code == 403
    assert pull.json()["refused"] == {"education.grades": "consent_withdrawn"}
    feed = httpx.get(url + "/api/v1/consent/feed", headers=op).json()
    assert [e["type"] for e in feed["events"] if e["consent_id"] == cid][-1] == "withdrawn"
    mine = httpx.get(
        url + "/api/v1/me/transfers", headers=parent, params={"subject": child_id}
    ).json()
    assert [t["decision"] for t in mine["transfers"]] == ["refused", "partial"]
    # the supplier's client cannot pull; the child cannot act as an operator
    assert (
        httpx.get(
            f"{url}/api/v1/subjects/{child_id}/data",
            headers=sup,
            params={"purpose": "attestation.online", "categories": "education.grades"},
        ).status_code
        == 403
    )
    assert (
        httpx.post(
            url + "/api/v1/consent/requests",
            headers=child,
            json={"template_id": tpl.json()["id"], "subject_id": child_id},
        ).status_code
        == 403
    )
