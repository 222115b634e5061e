"""The fast backend agrees with gostcrypto (the reference) and OpenSSL on every curve we map."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from gostcrypto import gostsignature

from idp.esia import gost, gostfast
from tests.support.settings import needs_tool

PARAMSETS = sorted(set(gost.PARAMSET_CURVES.values()))


@pytest.mark.parametrize("name", PARAMSETS)
def test_public_keys_and_cross_verification(name):
    paramset = next(oid for oid, curve in gost.PARAMSET_CURVES.items() if curve == name)
    key = gost.generate_private_key(paramset)
    reference = gostsignature.new(
        gostsignature.MODE_256, gostsignature.CURVES_R_1323565_1_024_2019[name]
    )
    raw = reference.public_key_generate(bytearray(key.d.to_bytes(32, "big")))
    curve = gostfast.curve_for(name)
    assert gostfast.public_key(curve, key.d) == (
        int.from_bytes(raw[:32], "big"),
        int.from_bytes(raw[32:], "big"),
    )
    public = key.public_key()
    for data in (b"", b"x", "PROPUSKopenid фио".encode() * 20):
        fast_sig = gost.sign(key, data, backend="fast")
        ref_sig = gost.sign(key, data, backend="gostcrypto")
        assert gost.verify_gost(public, data, fast_sig, backend="gostcrypto")
        assert gost.verify_gost(public, data, ref_sig, backend="fast")
        assert not gost.verify_gost(public, data + b"!", fast_sig, backend="fast")


def test_fast_verify_rejects_out_of_range_and_off_curve_input():
    key = gost.generate_private_key()
    public = key.public_key()
    curve = gostfast.curve_for(gost.PARAMSET_CURVES[key.paramset])
    digest = gost.streebog256(b"m")
    r, s = gostfast.sign(curve, key.d, digest)
    assert gostfast.verify(curve, (public.x, public.y), digest, r, s)
    assert not gostfast.verify(curve, (public.x, public.y), digest, 0, s)
    assert not gostfast.verify(curve, (public.x, public.y), digest, r, curve.q)
    assert not gostfast.verify(curve, (public.x, public.y + 1), digest, r, s)


def test_backend_switch_is_validated_and_restorable():
    before = gost.set_backend("fast")
    try:
        key = gost.generate_private_key()
        cert = gost.make_self_signed_certificate(key, "fast")  # signs and derives with fast
        assert gost.verify_gost(cert, cert.tbs_der, cert.signature, backend="gostcrypto")
        with pytest.raises(gost.GostError):
            gost.set_backend("pygost")
    finally:
        gost.set_backend(before)


@needs_tool(
    bool(shutil.which("openssl"))
    and subprocess.run(["openssl", "engine", "gost"], capture_output=True, check=False).returncode
    == 0,
    "OpenSSL gost engine (libengine-gost-openssl)",
)
def test_openssl_verifies_fast_signatures(tmp_path):
    key = gost.generate_private_key()
    cert = gost.make_self_signed_certificate(key, "fast")
    gost.write_key_pair(key, cert, tmp_path / "k.pem", tmp_path / "c.pem")
    data = b"client_id+scope+timestamp+state+redirect_uri"
    (tmp_path / "d").write_bytes(data)
    (tmp_path / "s").write_bytes(gost.sign(key, data, backend="fast"))
    pub = subprocess.run(
        ["openssl", "x509", "-engine", "gost", "-in", str(tmp_path / "c.pem"), "-pubkey", "-noout"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    (tmp_path / "p.pem").write_bytes(pub)
    done = subprocess.run(
        ["openssl", "dgst", "-engine", "gost", "-md_gost12_256", "-verify", str(tmp_path / "p.pem"),
         "-signature", str(tmp_path / "s"), str(tmp_path / "d")],
        capture_output=True, check=False,
    )  # fmt: skip
    assert b"Verified OK" in done.stdout, done.stderr


@needs_tool(
    bool(shutil.which("openssl"))
    and subprocess.run(["openssl", "engine", "gost"], capture_output=True, check=False).returncode
    == 0,
    "OpenSSL gost engine (libengine-gost-openssl)",
)
@pytest.mark.parametrize("data", [b"", b"client_id+scope+timestamp", "ЕСИА".encode() * 100])
def test_fast_verifies_openssl_signatures_and_refuses_altered_ones(tmp_path, data):
    """The other direction (what the connector does with ESIA's signatures): OpenSSL's GOST
    engine signs, the fast backend — now the default — and the reference both verify."""
    key = gost.generate_private_key()
    cert = gost.make_self_signed_certificate(key, "gostcrypto")
    gost.write_key_pair(key, cert, tmp_path / "k.pem", tmp_path / "c.pem")
    (tmp_path / "d").write_bytes(data)
    subprocess.run(
        ["openssl", "dgst", "-engine", "gost", "-md_gost12_256", "-sign", str(tmp_path / "k.pem"),
         "-out", str(tmp_path / "s"), str(tmp_path / "d")],
        capture_output=True, check=True,
    )  # fmt: skip
    signature = (tmp_path / "s").read_bytes()
    public = key.public_key()
    assert gost.verify_gost(public, data, signature, backend="fast")
    assert gost.verify_gost(public, data, signature, backend="gostcrypto")
    assert not gost.verify_gost(public, data + b"!", signature, backend="fast")
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    assert not gost.verify_gost(public, data, flipped, backend="fast")


def test_the_fast_backend_is_the_default():
    from propusk.settings import Settings

    assert Settings().esia_gost_backend == "fast"
    assert gost.BACKEND_DEFAULT == "fast"
