"""End to end over real HTTP with real tokens: a parent and a 17-year-old log in through the
ESIA simulator; an e-diary (a relying party) gets their tokens through the consent screen and
reads what its scopes open, but cannot sign: it sends both to Propusk's signing page (a
registered return URI), where each signs the document in their own login. The operator and
supplier use client_credentials with clients bound to their registered organisations; consent
→ transfer → receipt (verified with python-jose against /jwks.json) and the signed PDF (checked
on the public verification page) → withdrawal in the cabinet → refusal and the feed.
"""

from __future__ import annotations

import json
import secrets

import httpx
import pytest

from idp import demo
from propusk.db import session_scope
from tests.browsing import cabinet, query_of, rp_tokens, sign_on_page
from tests.idp.oidc.helpers import verify_with_jwks
from tests.support.consent_world import TEMPLATE_TEXT, inn10, ogrn13

REDIRECT = "https://rp.example/cb"
BACK = "https://operator.example/consent-done"
PARENT = "1000400024"  # Волков; ESIA /kids: Волкова, born 11.02.2009
CHILD = "1000400013"
RP_SCOPE = "openid profile school children consents.read transfers.read"


def _login(url: str, client_id: str, secret: str, oid: str) -> str:
    """The e-diary's access token for the person (code flow, consent screen allowed)."""
    return rp_tokens(url, client_id, secret, REDIRECT, oid, RP_SCOPE)["access_token"]


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
def stack(sim_stack):
    return sim_stack


def _parties(rt) -> dict:
    """An RP for logins, and operator/supplier clients bound to registered organisations."""
    from consent.catalogue import load_catalogue
    from consent.parties import register_organization
    from idp.oidc import clients

    out = {}
    with session_scope(rt.sessionmaker) as s:
        demo.seed(s, rt.settings)
        load_catalogue(s)
        rp, rp_secret = clients.create_client(
            s,
            name="Электронный дневник " + secrets.token_hex(3),
            grant_types=["authorization_code"],
            redirect_uris=[REDIRECT],
            scopes=RP_SCOPE.split(),
        )
        out["rp"] = (rp.client_id, rp_secret)
        for kind in ("operator", "supplier"):
            row, secret = clients.create_client(
                s,
                name=f"{kind}-{secrets.token_hex(3)}",
                grant_types=["client_credentials"],
                return_uris=[BACK] if kind == "operator" else [],
            )
            org = register_organization(
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
    from idp import identity

    url, rt = stack
    p = _parties(rt)
    parent = {"Authorization": "Bearer " + _login(url, *p["rp"], PARENT)}
    child = {"Authorization": "Bearer " + _login(url, *p["rp"], CHILD)}
    op = _client_token(url, *p["operator"][:2])
    sup = _client_token(url, *p["supplier"][:2])
    with session_scope(rt.sessionmaker) as s:
        child_id = str(identity.get_person_by_oid(s, CHILD).id)

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
    assert req.json()["signing_url"] == f"{url}/sign/{cid}"
    assert req.json()["age_rule"] == "14to17"

    # the e-diary holds both tokens, but signing is not delegable: it sends them to Propusk
    for token in (child, parent):
        r = httpx.post(
            f"{url}/api/v1/consents/{cid}/approve",
            headers=token,
            json={"document_sha256": "0" * 64},
        )
        assert r.status_code == 403 and r.json()["type"].endswith("/not-delegable"), r.text
    r = httpx.get(f"{url}/api/v1/consents/{cid}", headers=parent)
    assert r.status_code == 200 and r.json()["state"] == "requested"  # consents.read
    signers = {oid: cabinet(url, oid) for oid in (CHILD, PARENT)}
    for oid, expected in ((CHILD, "partially_given"), (PARENT, "given")):
        done = sign_on_page(signers[oid], url, cid, return_uri=BACK, state="st-" + oid)
        assert done.status_code == 303, done.text
        assert done.headers["location"].startswith(BACK + "?")
        assert query_of(done.headers["location"]) == {
            "consent_id": cid,
            "result": expected,
            "state": "st-" + oid,
        }
    # an unregistered return URI is refused before anything is shown or signed
    page = signers[PARENT].get(f"{url}/sign/{cid}", params={"return_uri": "https://evil.example/"})
    assert page.status_code == 400 and "не зарегистрирован" in page.text

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
    for signer in claims["signers"]:  # the real login of each signature, and its document
        assert signer["method"] == "esia:pwd" and signer["confirmed_account"] is True
        assert len(signer["document_sha256"]) == 64 and len(signer["pdf_sha256"]) == 64
    pdf = signers[PARENT].get(f"{url}/api/v1/consents/{cid}").json()["signatures"]
    guardian = next(x for x in pdf if x["role"] == "guardian")
    document = signers[PARENT].get(
        f"{url}/api/v1/consents/{cid}/documents/{guardian['document_id']}.pdf"
    )
    assert document.status_code == 200 and document.content.startswith(b"%PDF")
    checked = httpx.post(url + "/verify", files={"file": ("c.pdf", document.content)})
    assert checked.status_code == 200 and "Документ подлинный" in checked.text
    assert "действует" in checked.text

    r = httpx.post(f"{url}/api/v1/consents/{cid}/withdraw", headers=parent)
    assert r.status_code == 403  # not with the e-diary's token either
    r = signers[PARENT].post(f"{url}/api/v1/consents/{cid}/withdraw")
    assert r.status_code == 200 and r.json()["state"] == "withdrawn", r.text
    checked = httpx.post(url + "/verify", data={"receipt": receipt["receipt"]})
    assert "Квитанция подлинная" in checked.text and "отозвано" in checked.text
    as_file = httpx.post(url + "/verify", files={"file": ("c.jws", receipt["receipt"].encode())})
    assert as_file.status_code == 200 and "Квитанция подлинная" in as_file.text
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
