"""Protocol details the connector and the simulator share: strings, formats, tokens."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from idp.esia import gost
from idp.esia.connector import (
    decode_secret,
    encode_secret,
    format_timestamp,
    parse_timestamp,
    pkce_challenge,
    secret_payload,
)
from idp.esia.errors import EsiaError, describe, error_description, from_oauth_error
from idp.esia.keys import client_paths
from idp.esia.tokens import (
    TokenVerifier,
    b64url,
    encode_gost_jwt,
    granted_scopes,
    load_trusted,
)
from idp.esia.upstream import build_upstream
from idp.upstream import UpstreamError
from tests.support.settings import make_settings


def test_timestamp_format_is_esias():
    moment = datetime(2013, 1, 25, 14, 36, 11, tzinfo=timezone(timedelta(hours=4)))
    assert format_timestamp(moment) == "2013.01.25 14:36:11 +0400"
    assert (
        format_timestamp(datetime(2026, 11, 5, 9, 7, 3, tzinfo=UTC)) == "2026.11.05 09:07:03 +0000"
    )
    assert parse_timestamp("2013.01.25 14:36:11 +0400") == moment
    with pytest.raises(ValueError):
        format_timestamp(datetime(2026, 1, 1))  # naive times are refused


def test_signed_strings_are_the_exact_concatenations():
    args = ("PROPUSK", "openid fullname", "2026.11.25 14:36:11 +0000", "st-1", "https://x/cb")
    assert (
        secret_payload(*args) == b"PROPUSKopenid fullname2026.11.25 14:36:11 +0000st-1https://x/cb"
    )
    assert secret_payload(*args, code="c0de") == secret_payload(*args) + b"c0de"
    with_org = secret_payload(*args, scope_org="org_emps")
    assert with_org == b"PROPUSKopenid fullnameorg_emps2026.11.25 14:36:11 +0000st-1https://x/cb"
    assert secret_payload("P", "фио", "t", "s", "r") == "Pфиоtsr".encode()


def test_client_secret_encoding_tolerates_client_variants():
    raw = bytes(range(256))[:64]
    text = encode_secret(raw)
    assert "=" not in text and "+" not in text and "/" not in text
    assert decode_secret(text) == raw
    assert decode_secret(base64.urlsafe_b64encode(raw).decode()) == raw  # padded (Go, Java)
    assert decode_secret(base64.b64encode(raw).decode()) == raw  # standard (.NET)
    assert decode_secret("%%%") == b""


def test_pkce_s256_matches_rfc_7636_appendix_b():
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_error_codes_map_to_clear_messages():
    err = from_oauth_error("access_denied", "ESIA-007053: OAuthErrorEnum.clientSecretWrong")
    assert isinstance(err, UpstreamError) and err.code == "ESIA-007053"
    assert "client_secret" in err.message
    assert error_description("ESIA-007014").startswith("ESIA-007014: ")
    assert from_oauth_error("invalid_grant", None).code == "ESIA-007011"
    assert from_oauth_error("weird", "no code here").code == "ESIA-007003"
    assert describe("ESIA-999999").endswith("ESIA-999999.")


# --- tokens ------------------------------------------------------------------------------------

ISS = "http://esia.gosuslugi.ru/"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def claims(**overrides):
    base = {
        "nbf": int(NOW.timestamp()),
        "iat": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 3600,
        "iss": ISS,
        "client_id": "PROPUSK",
        "urn:esia:sbj_id": 1000299681,
        "urn:esia:sid": "ab" * 32,
        "scope": "fullname?oid=1000299681 openid email?oid=1000299681",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture(scope="module")
def esia_gost():
    key = gost.generate_private_key()
    cert = gost.make_self_signed_certificate(key, "ГОСТ_TEST")
    return gost.GostcryptoSigner(key, cert)


@pytest.fixture(scope="module")
def esia_rsa():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ESIA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM)


def rs256(key, body: dict) -> str:
    header = {"ver": 1, "typ": "JWT", "sbt": "access", "alg": "RS256"}
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(body).encode())
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64url(signature)


def verifier_for(trusted, **kwargs) -> TokenVerifier:
    return TokenVerifier(lambda: trusted, ISS, "PROPUSK", clock=lambda: NOW, **kwargs)


def test_gost_and_rsa_tokens_verify_against_a_rotating_trust_list(esia_gost, esia_rsa):
    rsa_key, rsa_pem = esia_rsa
    trusted = load_trusted(rsa_pem + esia_gost.certificate.pem())  # one bundle, two algorithms
    assert len(trusted) == 2
    verifier = verifier_for(trusted)
    gost_token = encode_gost_jwt({"ver": 1, "typ": "JWT", "sbt": "access"}, claims(), esia_gost)
    assert verifier.verify(gost_token)["urn:esia:sbj_id"] == 1000299681
    assert verifier.verify(rs256(rsa_key, claims()))["client_id"] == "PROPUSK"
    assert granted_scopes(claims()) == {"fullname", "openid", "email"}


def test_token_from_an_untrusted_key_is_refused(esia_gost):
    other = gost.generate_private_key()
    signer = gost.GostcryptoSigner(other, gost.make_self_signed_certificate(other, "evil"))
    token = encode_gost_jwt({"sbt": "access"}, claims(), signer)
    with pytest.raises(EsiaError) as caught:
        verifier_for([esia_gost.certificate]).verify(token)
    assert caught.value.code == "esia.token_invalid"


def test_alg_none_and_alg_confusion_are_refused(esia_gost, esia_rsa):
    token = encode_gost_jwt({"sbt": "access"}, claims(), esia_gost)
    _head, body, sig = token.split(".")
    none_head = b64url(json.dumps({"alg": "none"}).encode())
    rs_head = b64url(json.dumps({"alg": "RS256"}).encode())
    verifier = verifier_for([esia_gost.certificate])
    for forged in (f"{none_head}.{body}.", f"{rs_head}.{body}.{sig}", "a.b", "x.y.z"):
        with pytest.raises(EsiaError):
            verifier.verify(forged)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"exp": int((NOW - timedelta(minutes=5)).timestamp())}, "esia.token_expired"),
        ({"nbf": int((NOW + timedelta(minutes=5)).timestamp())}, "esia.token_claims"),
        ({"iss": "http://esia-portal1.test.gosuslugi.ru/"}, "esia.token_claims"),
        ({"client_id": "OTHER"}, "esia.token_claims"),
        ({"urn:esia:sbj_id": None}, "esia.token_claims"),
        ({"urn:esia:sbj_id": "1000299681"}, "esia.token_claims"),
        ({"exp": None}, "esia.token_claims"),
    ],
)
def test_claims_are_checked(esia_gost, overrides, code):
    token = encode_gost_jwt({"sbt": "access"}, claims(**overrides), esia_gost)
    with pytest.raises(EsiaError) as caught:
        verifier_for([esia_gost.certificate]).verify(token)
    assert caught.value.code == code


def test_leeway_accepts_small_clock_skew(esia_gost):
    token = encode_gost_jwt(
        {"sbt": "access"}, claims(exp=int((NOW - timedelta(seconds=30)).timestamp())), esia_gost
    )
    assert verifier_for([esia_gost.certificate]).verify(token)
    with pytest.raises(EsiaError):
        verifier_for([esia_gost.certificate], leeway=0).verify(token)


def test_environments_pick_hosts_issuers_and_require_trusted_certs(tmp_path):
    key = gost.generate_private_key()
    signer = gost.GostcryptoSigner(key, gost.make_self_signed_certificate(key, "PROPUSK"))
    for env, host, iss in (
        ("prod", "https://esia.gosuslugi.ru", "http://esia.gosuslugi.ru/"),
        (
            "test",
            "https://esia-portal1.test.gosuslugi.ru",
            "http://esia-portal1.test.gosuslugi.ru/",
        ),
    ):
        settings = make_settings(
            "sqlite://", upstream="esia", esia_env=env, issuer="https://propusk.example"
        )
        upstream = build_upstream(settings, signer=signer)
        url = upstream.client.authorization_url("st", "challenge")
        assert url.startswith(host + "/aas/oauth2/v2/ac?")
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert query["redirect_uri"] == "https://propusk.example/login/esia/callback"
        assert query["client_certificate_hash"] == signer.certificate.hash
        assert query["code_challenge_method"] == "S256" and query["response_type"] == "code"
        assert upstream.verifier.issuer == iss and upstream.secure_cookies
        assert upstream.logout_url("https://propusk.example/") == (
            host + "/idp/ext/Logout?client_id=PROPUSK&redirect_url=https%3A%2F%2Fpropusk.example%2F"
        )
        with pytest.raises(EsiaError) as caught:
            upstream.verifier.trusted()  # real ESIA needs PROPUSK_ESIA_TRUSTED_CERTS
        assert caught.value.code == "esia.misconfigured"
    sim = build_upstream(
        make_settings("sqlite://", esia_simulator_url="http://sim:1"), signer=signer
    )
    assert sim.client.environment.issuer == "http://sim:1/"


def test_production_refuses_generated_dev_keys(tmp_path):
    settings = make_settings("sqlite://").model_copy(update={"env": "production"})
    with pytest.raises(RuntimeError, match="ESIA_KEY_PATH"):
        client_paths(settings, tmp_path)
    assert not list(tmp_path.iterdir())

    with pytest.raises(RuntimeError, match="ESIA_ENV"):
        build_upstream(settings.model_copy(update={"upstream": "esia", "esia_env": "simulator"}))
