"""Interoperability with OpenSSL + Debian's gost engine (libengine-gost-openssl), both ways.

OpenSSL is the reference implementation ESIA client libraries use (``openssl dgst -engine gost
-md_gost12_256 -sign``); our signatures, keys and certificates must be indistinguishable.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from idp.esia import gost
from idp.esia.connector import secret_payload
from tests.support.settings import needs_tool


def _gost_engine_available() -> bool:
    if not shutil.which("openssl"):
        return False
    done = subprocess.run(["openssl", "engine", "gost"], capture_output=True, check=False)
    return done.returncode == 0


pytestmark = needs_tool(_gost_engine_available(), "OpenSSL gost engine (libengine-gost-openssl)")


def openssl(*args: str, data: bytes | None = None) -> bytes:
    done = subprocess.run(["openssl", *args], input=data, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


@pytest.fixture(scope="module", params=["A", "TCA"])
def openssl_pair(request, tmp_path_factory) -> tuple[Path, Path]:
    """A key and self-signed certificate made by OpenSSL itself."""
    directory = tmp_path_factory.mktemp("openssl")
    key, cert = directory / "key.pem", directory / "cert.pem"
    openssl(
        "genpkey", "-engine", "gost", "-algorithm", "gost2012_256",
        "-pkeyopt", f"paramset:{request.param}", "-out", str(key),
    )  # fmt: skip
    openssl(
        "req", "-engine", "gost", "-x509", "-new", "-key", str(key), "-md_gost12_256",
        "-subj", "/CN=PROPUSK/O=Interop", "-days", "30", "-out", str(cert),
    )  # fmt: skip
    return key, cert


@pytest.fixture(scope="module")
def our_pair(tmp_path_factory) -> tuple[Path, Path]:
    """A key and certificate made by our Python code."""
    directory = tmp_path_factory.mktemp("ours")
    key = gost.generate_private_key()
    cert = gost.make_self_signed_certificate(key, "PROPUSK")
    gost.write_key_pair(key, cert, directory / "key.pem", directory / "cert.pem")
    return directory / "key.pem", directory / "cert.pem"


PAYLOAD = secret_payload(
    "PROPUSK",
    "openid fullname usr_org",
    "2026.11.25 14:36:11 +0000",
    "3a5b2f0e-5d1c-4f6b-9b8e-1f0a2c3d4e5f",
    "https://propusk.example/login/esia/callback",
    "code-123",
)


def test_we_read_openssl_keys_and_certificates(openssl_pair):
    key_path, cert_path = openssl_pair
    key = gost.load_private_key(key_path)
    cert = gost.load_certificate(cert_path)
    assert key.public_key() == cert.public_key
    # OpenSSL's certificate signature verifies with our code
    assert gost.verify_gost(cert.public_key, cert.tbs_der, cert.signature)
    der = openssl("x509", "-in", str(cert_path), "-outform", "DER")
    digest = openssl("dgst", "-engine", "gost", "-md_gost12_256", "-r", data=der)
    assert cert.hash == digest.split()[0].decode().upper()


def test_we_verify_openssl_signatures(openssl_pair, tmp_path):
    key_path, cert_path = openssl_pair
    (tmp_path / "data").write_bytes(PAYLOAD)
    signature = openssl(
        "dgst", "-engine", "gost", "-md_gost12_256", "-sign", str(key_path), str(tmp_path / "data")
    )
    cert = gost.load_certificate(cert_path)
    assert gost.verify_gost(cert, PAYLOAD, signature)
    assert not gost.verify_gost(cert, PAYLOAD + b"x", signature)


def test_openssl_verifies_our_signatures(openssl_pair, tmp_path):
    key_path, cert_path = openssl_pair
    signature = gost.sign(gost.load_private_key(key_path), PAYLOAD)
    pub = tmp_path / "pub.pem"
    pub.write_bytes(openssl("x509", "-engine", "gost", "-in", str(cert_path), "-pubkey", "-noout"))
    (tmp_path / "data").write_bytes(PAYLOAD)
    (tmp_path / "sig").write_bytes(signature)
    out = openssl(
        "dgst", "-engine", "gost", "-md_gost12_256", "-verify", str(pub),
        "-signature", str(tmp_path / "sig"), str(tmp_path / "data"),
    )  # fmt: skip
    assert b"Verified OK" in out


def test_openssl_accepts_our_key_and_certificate(our_pair, tmp_path):
    key_path, cert_path = our_pair
    text = openssl("x509", "-engine", "gost", "-in", str(cert_path), "-noout", "-text")
    assert b"GOST R 34.10-2012 with GOST R 34.11-2012 (256 bit)" in text
    assert b"CryptoPro-A" in text
    verified = openssl("verify", "-engine", "gost", "-CAfile", str(cert_path), str(cert_path))
    assert b"OK" in verified  # OpenSSL checks our self-signature
    (tmp_path / "data").write_bytes(PAYLOAD)
    signature = openssl(
        "dgst", "-engine", "gost", "-md_gost12_256", "-sign", str(key_path), str(tmp_path / "data")
    )  # OpenSSL signs with the PKCS#8 key we wrote
    assert gost.verify_gost(gost.load_certificate(cert_path), PAYLOAD, signature)


def test_openssl_signer_is_a_drop_in_signer(openssl_pair):
    key_path, cert_path = openssl_pair
    signer = gost.OpenSSLSigner(key_path, cert_path)
    signature = signer.sign(PAYLOAD)
    assert len(signature) == 64
    assert gost.verify_gost(gost.load_certificate(signer.certificate_der), PAYLOAD, signature)
