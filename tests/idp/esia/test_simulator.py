"""The simulator over real HTTP: what it checks on v2/ac and v3/te, its tokens and REST."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from idp.esia import gost
from idp.esia.connector import encode_secret, format_timestamp, pkce_pair, secret_payload
from idp.esia.errors import EsiaError
from idp.esia.keys import client_paths, load_signer
from idp.esia.rest import EsiaRest
from idp.esia.tokens import TokenVerifier, decode_unverified, load_trusted
from tests.idp.esia.helpers import ISSUER, PARENT_OID, choose, login_page
from tests.support.settings import make_settings

REDIRECT = ISSUER + "/login/esia/callback"
SCOPE = "openid fullname birthdate email mobile usr_org kid_fullname kid_birthdate"
DIRECTOR_OID = "1000400001"


pytestmark = pytest.mark.usefixtures("fast_gost")


@pytest.fixture(scope="module")
def signer(key_dir):
    return load_signer(*client_paths(make_settings("sqlite://"), key_dir))


def signed(signer, *, code=None, sign_with=None, **overrides) -> dict[str, str]:
    """v2/ac or v3/te parameters, signed over the §2.2 concatenation after overrides."""
    params = {
        "client_id": "PROPUSK",
        "scope": SCOPE,
        "timestamp": format_timestamp(datetime.now(UTC)),
        "state": str(uuid.uuid4()),
        "redirect_uri": REDIRECT,
        "client_certificate_hash": gost.certificate_hash(signer.certificate_der),
    }
    params.update(overrides)
    payload = secret_payload(
        params["client_id"],
        params["scope"],
        params["timestamp"],
        params["state"],
        params["redirect_uri"],
        code,
    )
    params["client_secret"] = encode_secret((sign_with or signer).sign(payload))
    return params


def ac_url(sim, params: dict[str, str], **extra) -> str:
    query = {"response_type": "code", "access_type": "online", **params, **extra}
    return sim.url + "/aas/oauth2/v2/ac?" + urlencode(query)


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def error_code(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    query = query_of(response.headers["location"])
    return query["error_description"].split(":")[0]


def authorize(sim, signer, browser, oid=PARENT_OID, challenge=None, **extra):
    """A full v2/ac + login; returns (code, auth params)."""
    params = signed(signer)
    pkce = {"code_challenge": challenge, "code_challenge_method": "S256"} if challenge else {}
    response = choose(browser, ac_url(sim, params, **pkce, **extra), oid)
    query = query_of(response.headers["location"])
    assert query["state"] == params["state"]
    return query["code"], params


def token_request(sim, signer, code, auth, **overrides):
    form = signed(signer, code=code, **{"scope": auth["scope"], **overrides})
    form.update(grant_type="authorization_code", code=code, token_type="Bearer")
    return httpx.post(sim.url + "/aas/oauth2/v3/te", data={**form, **overrides}), form


# --- v2/ac ---------------------------------------------------------------------------------------


def test_login_page_lists_demo_people_with_a_plain_form(sim, signer, browser):
    page = browser.get(ac_url(sim, signed(signer)))
    assert page.status_code == 200
    assert "Вход через Госуслуги" in page.text
    assert 'name="oid" value="1000400001"' in page.text and "Григорьева Людмила" in page.text
    assert page.text.count('name="oid"') >= 25


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        ({"client_certificate_hash": "00" * 32}, "ESIA-007002"),
        ({"timestamp": format_timestamp(datetime.now(UTC) - timedelta(hours=1))}, "ESIA-007015"),
        ({"timestamp": "25.11.2026 10:00"}, "ESIA-007015"),
        ({"scope": "openid fullname secret_stuff"}, "ESIA-007006"),
        ({"response_type": "token"}, "ESIA-007012"),
        ({"state": ""}, "ESIA-007014"),
    ],
)
def test_authorization_errors_redirect_with_esia_codes(sim, signer, browser, tamper, code):
    params = signed(signer)
    response = browser.get(ac_url(sim, {**params, **tamper}))
    assert error_code(response) == code
    query = query_of(response.headers["location"])
    assert set(query) >= {"error", "error_description"}


def test_bad_signature_is_client_secret_wrong(sim, signer, browser):
    other = gost.generate_private_key()
    forger = gost.GostcryptoSigner(other, gost.make_self_signed_certificate(other, "PROPUSK"))
    params = signed(signer, sign_with=forger)  # right certificate hash, wrong key
    response = browser.get(ac_url(sim, params))
    assert error_code(response) == "ESIA-007053"
    assert query_of(response.headers["location"])["error"] == "access_denied"
    tampered = signed(signer)
    tampered["scope"] = "openid fullname"  # signed string no longer matches
    assert error_code(browser.get(ac_url(sim, tampered))) == "ESIA-007053"


def test_unknown_client_and_foreign_redirect_are_not_redirected(sim, signer, browser):
    unknown = browser.get(ac_url(sim, signed(signer, client_id="NOBODY")))
    assert unknown.status_code == 400 and "ESIA-007002" in unknown.text
    foreign = browser.get(ac_url(sim, signed(signer, redirect_uri="https://evil.example/cb")))
    assert foreign.status_code == 400 and "ESIA-007023" in foreign.text


def test_refusing_on_the_login_page_redirects_access_denied(sim, signer, browser):
    params = signed(signer)
    response = choose(browser, ac_url(sim, params), deny=True)
    query = query_of(response.headers["location"])
    assert query["error"] == "access_denied" and query["state"] == params["state"]
    assert query["error_description"].startswith("ESIA-007004")


def test_a_login_form_is_single_use(sim, signer, browser):
    action, rid = login_page(browser, ac_url(sim, signed(signer)))
    assert browser.post(action, data={"rid": rid, "oid": PARENT_OID}).status_code == 302
    again = browser.post(action, data={"rid": rid, "oid": PARENT_OID})
    assert again.status_code == 400 and "ESIA-007003" in again.text


# --- v3/te ---------------------------------------------------------------------------------------


def test_token_exchange_issues_gost_tokens_esia_style(sim, signer, browser):
    verifier, challenge = pkce_pair()
    code, auth = authorize(sim, signer, browser, challenge=challenge)
    response, form = token_request(sim, signer, code, auth, code_verifier=verifier)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] == form["state"] != auth["state"]
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    trusted = load_trusted(httpx.get(sim.url + "/public/cert.pem").content)
    claims = TokenVerifier(lambda: trusted, sim.url + "/", "PROPUSK").verify(body["access_token"])
    assert claims["urn:esia:sbj_id"] == int(PARENT_OID)
    assert f"fullname?oid={PARENT_OID}" in claims["scope"].split()
    assert "openid" in claims["scope"].split()
    id_token = decode_unverified(body["id_token"])
    assert gost.verify_gost(trusted[0], id_token.signing_input, id_token.signature)
    assert id_token.header == {"ver": 0, "typ": "JWT", "sbt": "id", "alg": "GOST3410_2012_256"}
    assert id_token.claims["aud"] == "PROPUSK" and id_token.claims["sub"] == int(PARENT_OID)
    assert id_token.claims["urn:esia:sbj"]["urn:esia:sbj:is_tru"] is True


def test_code_is_single_use_and_reuse_revokes_its_token(sim, signer, browser):
    code, auth = authorize(sim, signer, browser)
    first, _ = token_request(sim, signer, code, auth)
    assert first.status_code == 200
    token = first.json()["access_token"]
    headers = {"Authorization": "Bearer " + token}
    assert httpx.get(f"{sim.url}/rs/prns/{PARENT_OID}", headers=headers).status_code == 200
    second, form = token_request(sim, signer, code, auth)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    assert second.json()["error_description"].startswith("ESIA-007011")
    assert second.json()["state"] == form["state"]
    assert httpx.get(f"{sim.url}/rs/prns/{PARENT_OID}", headers=headers).status_code == 401


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("same_state", "ESIA-007003"),
        ("bad_signature", "ESIA-007053"),
        ("wrong_hash", "ESIA-007002"),
        ("stale", "ESIA-007015"),
        ("scope_changed", "ESIA-007006"),
        ("pkce_mismatch", "ESIA-007040"),
        ("pkce_missing", "ESIA-007040"),
        ("grant_type", "ESIA-007009"),
        ("missing_hash", "ESIA-007014"),
    ],
)
def test_token_request_errors(sim, signer, browser, case, code):
    verifier, challenge = pkce_pair()
    grant, auth = authorize(sim, signer, browser, challenge=challenge)
    overrides = {"code_verifier": verifier}
    if case == "same_state":
        overrides["state"] = auth["state"]
    elif case == "wrong_hash":
        overrides["client_certificate_hash"] = "AB" * 32
    elif case == "stale":
        overrides["timestamp"] = format_timestamp(datetime.now(UTC) - timedelta(minutes=30))
    elif case == "scope_changed":
        overrides["scope"] = "openid fullname"
    elif case == "pkce_mismatch":
        overrides["code_verifier"] = pkce_pair()[0]
    elif case == "pkce_missing":
        overrides["code_verifier"] = ""
    elif case == "grant_type":
        overrides["grant_type"] = "password"
    elif case == "missing_hash":
        overrides["client_certificate_hash"] = ""
    form = signed(signer, code=grant, **{"scope": auth["scope"], **overrides})
    form.update(grant_type="authorization_code", code=grant, token_type="Bearer")
    form.update({k: v for k, v in overrides.items() if k in ("grant_type", "code_verifier")})
    if case == "bad_signature":
        form["client_secret"] = encode_secret(signer.sign(b"something else"))
    response = httpx.post(sim.url + "/aas/oauth2/v3/te", data=form)
    assert response.status_code == 400
    body = response.json()
    assert body["error_description"].split(":")[0] == code
    assert body["state"] == form["state"]


# --- REST ----------------------------------------------------------------------------------------


@pytest.fixture
def parent_token(sim, signer, browser) -> str:
    code, auth = authorize(sim, signer, browser)
    response, _ = token_request(sim, signer, code, auth)
    return response.json()["access_token"]


def rest(sim, token, path, **params):
    headers = {"Authorization": "Bearer " + token} if token else {}
    return httpx.get(sim.url + path, headers=headers, params=params)


def test_person_is_filtered_by_scope_and_embeds_contacts(sim, parent_token):
    person = rest(sim, parent_token, f"/rs/prns/{PARENT_OID}", embed="(contacts.elements)").json()
    assert person["lastName"] == "Волков" and person["birthDate"] == "09.11.1978"
    assert person["trusted"] is True and "eTag" in person
    assert "snils" not in person and "inn" not in person  # not granted
    contacts = person["contacts"]
    assert contacts["size"] == len(contacts["elements"]) == 2
    assert {c["type"] for c in contacts["elements"]} == {"EML", "MBT"}


def test_collections_give_urls_or_inline_elements(sim, parent_token):
    plain = rest(sim, parent_token, f"/rs/prns/{PARENT_OID}/ctts").json()
    assert plain["stateFacts"] == ["hasSize"] and plain["size"] == 2
    url = plain["elements"][0]
    assert url.startswith(f"{sim.url}/rs/prns/{PARENT_OID}/ctts/")
    assert rest(sim, parent_token, url[len(sim.url) :]).json()["type"] in {"EML", "MBT"}
    kids = rest(sim, parent_token, f"/rs/prns/{PARENT_OID}/kids", embed="(elements)").json()
    assert kids["size"] == 1
    kid = kids["elements"][0]
    assert (kid["firstName"], kid["birthDate"]) == ("Полина", "11.02.2009")
    assert "snils" not in kid  # kid_snils was not requested


def test_rest_refuses_missing_scope_other_person_and_bad_token(sim, parent_token):
    assert rest(sim, parent_token, f"/rs/prns/{PARENT_OID}/docs").status_code == 403
    assert rest(sim, parent_token, f"/rs/prns/{PARENT_OID}/addrs").status_code == 403
    assert rest(sim, parent_token, f"/rs/prns/{DIRECTOR_OID}").status_code == 403
    assert rest(sim, None, f"/rs/prns/{PARENT_OID}").status_code == 401
    assert rest(sim, "garbage", f"/rs/prns/{PARENT_OID}").status_code == 401
    assert rest(sim, parent_token, f"/rs/prns/{PARENT_OID}/roles").json()["size"] == 0


def test_director_roles_name_the_school_as_chief(sim, signer, browser):
    code, auth = authorize(sim, signer, browser, oid=DIRECTOR_OID)
    token = token_request(sim, signer, code, auth)[0].json()["access_token"]
    roles = rest(sim, token, f"/rs/prns/{DIRECTOR_OID}/roles").json()
    assert roles["size"] == 1
    role = roles["elements"][0]
    assert role["chief"] is True and role["ogrn"] == "1026901061175"
    assert role["prnOid"] == int(DIRECTOR_OID)
    org = rest(sim, token, f"/rs/orgs/{role['oid']}").json()
    assert org["shortName"] == "МБОУ СОШ № 17"
    assert rest(sim, token, "/rs/orgs/1000500002").status_code == 403  # not an employee


def test_logout_and_certificate_publication(sim, signer, browser):
    bye = browser.get(
        sim.url + "/idp/ext/Logout", params={"client_id": "PROPUSK", "redirect_url": REDIRECT}
    )
    assert bye.status_code == 302 and bye.headers["location"] == REDIRECT
    foreign = browser.get(
        sim.url + "/idp/ext/Logout",
        params={"client_id": "PROPUSK", "redirect_url": "https://evil/"},
    )
    assert foreign.status_code == 200 and "Вы вышли" in foreign.text
    cert = gost.load_certificate(httpx.get(sim.url + "/public/cert.pem").content)
    assert cert.der == sim.config.signer.certificate_der
    assert httpx.get(sim.url + "/public/cert.der").content == cert.der


def test_garbage_input_gets_4xx_never_5xx(sim, browser):
    base = sim.url
    probes = [
        browser.get(base + "/aas/oauth2/v2/ac"),
        browser.get(
            base + "/aas/oauth2/v2/ac", params={"client_id": "PROPUSK", "redirect_uri": REDIRECT}
        ),
        browser.post(base + "/aas/oauth2/v2/ac", data={"oid": PARENT_OID}),
        browser.post(base + "/aas/oauth2/v3/te", content=b"\xff\x00garbage"),
        browser.post(base + "/aas/oauth2/v3/te", json={"client_id": "PROPUSK"}),
        browser.post(base + "/aas/oauth2/v3/te", data={"client_id": "PROPUSK", "code": "x"}),
        browser.get(base + "/rs/prns/not-a-number"),
        browser.get(base + "/rs/prns/1/unknown", headers={"Authorization": "Bearer x"}),
        browser.get(base + "/rs/orgs/1000500001"),
        browser.get(base + "/idp/ext/Logout"),
    ]
    statuses = [r.status_code for r in probes]
    assert all(s < 500 for s in statuses), statuses
    assert statuses[1] == 302  # redirectable: error=invalid_request (ESIA-007014)
    assert query_of(probes[1].headers["location"])["error_description"].startswith("ESIA-007014")
    assert probes[5].json()["error_description"].startswith("ESIA-007014")


def test_offline_access_gives_a_rotating_refresh_token(sim, signer, browser):
    code, auth = authorize(sim, signer, browser, access_type="offline")
    first = token_request(sim, signer, code, auth)[0].json()
    refresh = first["refresh_token"]

    def refresh_with(token: str) -> httpx.Response:
        form = signed(signer, scope=auth["scope"])  # no code in the signed string
        form.update(grant_type="refresh_token", refresh_token=token, token_type="Bearer")
        return httpx.post(sim.url + "/aas/oauth2/v3/te", data=form)

    renewed = refresh_with(refresh)
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["refresh_token"] != refresh
    token = renewed.json()["access_token"]
    assert rest(sim, token, f"/rs/prns/{PARENT_OID}").status_code == 200
    reused = refresh_with(refresh)
    assert reused.status_code == 400
    assert reused.json()["error_description"].startswith("ESIA-007011")


def test_rest_client_reads_documents_addresses_and_element_urls(sim, signer, browser):
    params = signed(signer, scope="openid fullname id_doc addresses contacts")
    response = choose(browser, ac_url(sim, params), PARENT_OID)
    code = query_of(response.headers["location"])["code"]
    token = token_request(sim, signer, code, params)[0].json()["access_token"]
    with httpx.Client() as http:
        client = EsiaRest(sim.url, token, http)
        (passport,) = client.documents(PARENT_OID)
        assert passport["type"] == "RF_PASSPORT" and passport["series"] and passport["number"]
        (address,) = client.addresses(PARENT_OID)
        assert address["type"] == "PRG" and address["city"] == "Тверь"
        assert {c["type"] for c in client.contacts(PARENT_OID)} == {"EML", "MBT"}
        plain = client._get(f"/rs/prns/{PARENT_OID}/docs")  # without embed: URLs
        assert client._get(plain["elements"][0]) == passport
        with pytest.raises(EsiaError) as caught:
            client.kids(PARENT_OID)  # no kid_* scope granted
        assert caught.value.code == "esia.rest_forbidden"
