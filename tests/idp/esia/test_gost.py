"""GOST R 34.11-2012 / 34.10-2012 building blocks: vectors, layouts, keys, certificates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from gostcrypto import gostsignature

from idp.esia import gost

# GOST R 34.11-2012 appendix A, example 1: M1 = "0123…012" (63 bytes); the standard prints
# the hash as a little-endian number (00557be5…1d9d), i.e. reversed bytes.
M1 = b"012345678901234567890123456789012345678901234567890123456789012"
H1_256 = "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500"

# GOST R 34.10-2012 appendix A.1 (256-bit test curve): key, digest value e, k, signature.
TEST_CURVE = {
    "p": 0x8000000000000000000000000000000000000000000000000000000000000431,
    "a": 7,
    "b": 0x5FBFF498AA938CE739B8E022FBAFEF40563F6E6A3472FC2A514C0CE9DAE23B7E,
    "m": 0x8000000000000000000000000000000150FE8A1892976154C59CFC193ACCF5B3,
    "q": 0x8000000000000000000000000000000150FE8A1892976154C59CFC193ACCF5B3,
    "x": 2,
    "y": 0x08E2A8A0E65147D4BD6316030E16D19C85C97F0A9CA267122B96ABBCEA7E8FC8,
}


def test_streebog_256_matches_the_standard_vector():
    assert gost.streebog256(M1).hex() == H1_256
    assert gost.streebog256(M1)[::-1].hex().startswith("00557be5")


def test_signature_primitive_matches_the_standard_example():
    engine = gostsignature.new(gostsignature.MODE_256, TEST_CURVE)
    d = bytearray.fromhex("7A929ADE789BB9BE10ED359DD39A72C11B60961F49397EEE1D19CE9891EC3B28")
    e = bytearray.fromhex("2DFBC1B372D89A1188C09C52E0EEC61FCE52032AB1022E8E67ECE6672B043EE5")
    k = bytearray.fromhex("77105C9B20BCD3122823C8CF6FCC7B956DE33814E95B7FE64FED924594DCEAB3")
    public = engine.public_key_generate(bytearray(d)).hex().upper()
    assert public.startswith("7F2B49E270DB6D90D8595BEC458B50C5")
    rs = engine.sign(d, e, k).hex().upper()
    assert rs[:64] == "41AA28D2F1AB148280CD9ED56FEDA41974053554A42767B83AD043FD39DC0493"
    assert rs[64:] == "01456C64BA4642A1653C235A98A60249BCD6D3F746B631DF928014F6C5BF9C40"


@pytest.fixture(scope="module")
def pair():
    key = gost.generate_private_key()
    return key, gost.make_self_signed_certificate(key, "Тест")


def test_sign_verify_round_trip_and_layout(pair):
    key, cert = pair
    data = b"PROPUSKopenid fullname2026.11.25 10:00:00 +0000"
    signature = gost.sign(key, data)
    assert len(signature) == 64
    assert gost.verify_gost(cert, data, signature)
    assert gost.verify_gost(cert.public_key, data, signature)
    assert gost.verify_gost(cert.pem(), data, signature)
    # the layout is s || r: swapping the halves (gostcrypto's r || s) must not verify
    assert not gost.verify_gost(cert, data, signature[32:] + signature[:32])


def test_verify_rejects_tampering_wrong_key_and_garbage(pair):
    key, cert = pair
    signature = gost.sign(key, b"payload")
    assert not gost.verify_gost(cert, b"payloaD", signature)
    other = gost.generate_private_key().public_key()
    assert not gost.verify_gost(other, b"payload", signature)
    assert not gost.verify_gost(cert, b"payload", signature[:-1])
    assert not gost.verify_gost(cert, b"payload", b"\x00" * 64)
    assert not gost.verify_gost(cert, b"payload", b"")


def test_pkcs8_round_trip_keeps_the_key(pair):
    key, _ = pair
    loaded = gost.load_private_key(key.pkcs8_pem())
    assert loaded == key
    assert gost.load_private_key(key.pkcs8_der()) == key
    assert "d=" not in repr(loaded)


def test_certificate_fields_and_hash(pair):
    key, cert = pair
    assert cert.public_key == key.public_key()
    assert "Тест" in cert.subject
    assert gost.verify_gost(cert.public_key, cert.tbs_der, cert.signature)
    assert cert.valid_at(datetime.now(UTC))
    assert not cert.valid_at(datetime.now(UTC) + timedelta(days=400))
    assert cert.hash == gost.streebog256(cert.der).hex().upper()
    assert len(cert.hash) == 64 and cert.hash.isupper()
    assert gost.load_certificate(cert.pem()).der == cert.der


def test_tc26_parameter_set_a_works():
    key = gost.generate_private_key("1.2.643.7.1.2.1.1.1")
    cert = gost.make_self_signed_certificate(key, "tc26 A")
    assert gost.load_certificate(cert.der).public_key.paramset == "1.2.643.7.1.2.1.1.1"
    assert gost.verify_gost(cert, b"x", gost.sign(key, b"x"))


def test_signer_refuses_a_key_that_does_not_match_its_certificate(pair):
    _, cert = pair
    with pytest.raises(gost.GostError, match="does not match"):
        gost.GostcryptoSigner(gost.generate_private_key(), cert)


@pytest.mark.parametrize(
    "blob",
    [b"", b"not a key", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"],
)
def test_malformed_material_raises_gost_error(blob):
    with pytest.raises(gost.GostError):
        gost.load_private_key(blob)
    with pytest.raises(gost.GostError):
        gost.load_certificate(blob)


def test_rsa_certificate_is_not_a_gost_certificate():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ESIA")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    with pytest.raises(gost.GostError, match="not a GOST"):
        gost.load_certificate(cert.public_bytes(serialization.Encoding.DER))
