"""GOST R 34.10-2012 (256) signatures with Streebog-256, keys and certificates, in pure Python.

ESIA wants the raw 64-byte signature exactly as ``openssl dgst -md_gost12_256 -sign`` (gost
engine) outputs it: ``s || r``, each 32 bytes big-endian, over the Streebog-256 digest read as a
*little-endian* integer (RFC 4491/7091). ``gostcrypto`` reads the digest big-endian and emits
``r || s``, so we reverse the digest and swap the halves (esia-notes §8, checked against OpenSSL
in tests). Keys and certificates follow RFC 4491/9215: the private key in PKCS#8 is a 32-byte
little-endian OCTET STRING, the public key in a certificate is an OCTET STRING ``X_le || Y_le``
inside the BIT STRING. asn1crypto cannot read GOST keys, so the structures are declared here.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from asn1crypto import core, pem, x509
from gostcrypto import gosthash, gostsignature

from idp.esia import gostfast

OID_GOST2012_256_KEY = "1.2.643.7.1.1.1.1"
OID_GOST2012_512_KEY = "1.2.643.7.1.1.1.2"
OID_STREEBOG_256 = "1.2.643.7.1.1.2.2"
OID_SIG_GOST2012_256 = "1.2.643.7.1.1.3.2"

# Parameter-set OIDs (CryptoPro names as OpenSSL uses them, TC26 names) → gostcrypto curves.
PARAMSET_CURVES: dict[str, str] = {
    "1.2.643.2.2.35.1": "id-tc26-gost-3410-2012-256-paramSetB",  # CryptoPro-A (OpenSSL "A")
    "1.2.643.2.2.35.2": "id-tc26-gost-3410-2012-256-paramSetC",  # CryptoPro-B
    "1.2.643.2.2.35.3": "id-tc26-gost-3410-2012-256-paramSetD",  # CryptoPro-C
    "1.2.643.2.2.36.0": "id-tc26-gost-3410-2012-256-paramSetB",  # CryptoPro-XchA
    "1.2.643.2.2.36.1": "id-tc26-gost-3410-2012-256-paramSetD",  # CryptoPro-XchB
    "1.2.643.7.1.2.1.1.1": "id-tc26-gost-3410-2012-256-paramSetA",  # TC26 A (OpenSSL "TCA")
    "1.2.643.7.1.2.1.1.2": "id-tc26-gost-3410-2012-256-paramSetB",
    "1.2.643.7.1.2.1.1.3": "id-tc26-gost-3410-2012-256-paramSetC",
    "1.2.643.7.1.2.1.1.4": "id-tc26-gost-3410-2012-256-paramSetD",
}
DEFAULT_PARAMSET = "1.2.643.2.2.35.1"  # what `openssl genpkey ... -pkeyopt paramset:A` makes
SIZE = 32


class GostError(ValueError):
    """A key, certificate or signature that is not usable GOST R 34.10-2012-256 material."""


# --- ASN.1 structures (asn1crypto has no GOST key types) -------------------------------------


class _AlgorithmIdentifier(core.Sequence):
    _fields = [
        ("algorithm", core.ObjectIdentifier),
        ("parameters", core.Any, {"optional": True}),
    ]


class _GostKeyParams(core.Sequence):
    _fields = [
        ("public_key_param_set", core.ObjectIdentifier),
        ("digest_param_set", core.ObjectIdentifier, {"optional": True}),
        ("encryption_param_set", core.ObjectIdentifier, {"optional": True}),
    ]


class _SubjectPublicKeyInfo(core.Sequence):
    _fields = [("algorithm", _AlgorithmIdentifier), ("public_key", core.OctetBitString)]


class _PrivateKeyInfo(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("private_key_algorithm", _AlgorithmIdentifier),
        ("private_key", core.OctetString),
        ("attributes", core.Any, {"implicit": 0, "optional": True}),
        ("public_key", core.Any, {"implicit": 1, "optional": True}),
    ]


class _TbsCertificate(core.Sequence):
    _fields = [
        ("version", x509.Version, {"explicit": 0, "default": "v1"}),
        ("serial_number", core.Integer),
        ("signature", _AlgorithmIdentifier),
        ("issuer", x509.Name),
        ("validity", x509.Validity),
        ("subject", x509.Name),
        ("subject_public_key_info", _SubjectPublicKeyInfo),
        ("issuer_unique_id", core.OctetBitString, {"implicit": 1, "optional": True}),
        ("subject_unique_id", core.OctetBitString, {"implicit": 2, "optional": True}),
        ("extensions", x509.Extensions, {"explicit": 3, "optional": True}),
    ]


class _Certificate(core.Sequence):
    _fields = [
        ("tbs_certificate", _TbsCertificate),
        ("signature_algorithm", _AlgorithmIdentifier),
        ("signature_value", core.OctetBitString),
    ]


# --- hashing and the raw signature primitive ---------------------------------------------------


def streebog256(data: bytes) -> bytes:
    """GOST R 34.11-2012 256-bit digest (same bytes as ``openssl dgst -md_gost12_256``)."""
    return bytes(gosthash.new("streebog256", data=data).digest())


def certificate_hash(certificate_der: bytes) -> str:
    """ESIA ``client_certificate_hash``: uppercase hex Streebog-256 of the DER certificate."""
    return streebog256(certificate_der).hex().upper()


@lru_cache(maxsize=16)
def _engine(paramset_oid: str) -> gostsignature.GOST34102012:
    try:
        curve = gostsignature.CURVES_R_1323565_1_024_2019[PARAMSET_CURVES[paramset_oid]]
    except KeyError:
        raise GostError(f"unsupported GOST parameter set {paramset_oid}") from None
    return gostsignature.new(gostsignature.MODE_256, curve)


@dataclass(frozen=True)
class GostPublicKey:
    x: int
    y: int
    paramset: str = DEFAULT_PARAMSET

    def raw_be(self) -> bytearray:
        return bytearray(self.x.to_bytes(SIZE, "big") + self.y.to_bytes(SIZE, "big"))

    def spki(self) -> _SubjectPublicKeyInfo:
        point = core.OctetString(self.x.to_bytes(SIZE, "little") + self.y.to_bytes(SIZE, "little"))
        return _SubjectPublicKeyInfo(
            {
                "algorithm": _AlgorithmIdentifier(
                    {"algorithm": OID_GOST2012_256_KEY, "parameters": _key_params(self.paramset)}
                ),
                "public_key": point.dump(),
            }
        )


@dataclass(frozen=True, repr=False)
class GostPrivateKey:
    d: int
    paramset: str = DEFAULT_PARAMSET

    def __repr__(self) -> str:  # never print key material
        return f"GostPrivateKey(paramset={self.paramset!r})"

    def public_key(self) -> GostPublicKey:
        if _backend == "fast":
            x, y = gostfast.public_key(_fast_curve(self.paramset), self.d)
            return GostPublicKey(x, y, self.paramset)
        raw = _engine(self.paramset).public_key_generate(bytearray(self.d.to_bytes(SIZE, "big")))
        return GostPublicKey(
            int.from_bytes(raw[:SIZE], "big"), int.from_bytes(raw[SIZE:], "big"), self.paramset
        )

    def pkcs8_der(self) -> bytes:
        """PKCS#8 as the OpenSSL gost engine writes it (little-endian 32-byte OCTET STRING)."""
        algorithm = _AlgorithmIdentifier(
            {"algorithm": OID_GOST2012_256_KEY, "parameters": _key_params(self.paramset)}
        )
        info = _PrivateKeyInfo(
            {
                "version": 0,
                "private_key_algorithm": algorithm,
                "private_key": self.d.to_bytes(SIZE, "little"),
            }
        )
        return info.dump()

    def pkcs8_pem(self) -> bytes:
        return pem.armor("PRIVATE KEY", self.pkcs8_der())


def _key_params(paramset: str) -> core.Any:
    params = _GostKeyParams(
        {"public_key_param_set": paramset, "digest_param_set": OID_STREEBOG_256}
    )
    return core.Any.load(params.dump())


# The arithmetic backend: "fast" (gostfast.py, the default: about ten times faster) or
# "gostcrypto" (the reference). The fast one is checked against both gostcrypto and OpenSSL's
# GOST engine, in both directions, on every operation the connector uses: public keys,
# signatures, verification, certificates (tests/idp/esia/test_gostfast.py). Byte layouts are
# handled here for both.
BACKENDS = ("gostcrypto", "fast")
BACKEND_DEFAULT = "fast"
_backend = BACKEND_DEFAULT


def set_backend(name: str) -> str:
    """Choose the process-wide GOST arithmetic (``PROPUSK_ESIA_GOST_BACKEND``); returns the
    previous one (to restore it)."""
    global _backend
    if name not in BACKENDS:
        raise GostError(f"unknown GOST backend {name!r}; choose one of {BACKENDS}")
    previous, _backend = _backend, name
    return previous


def _fast_curve(paramset: str):
    _engine(paramset)  # validates the parameter set
    return gostfast.curve_for(PARAMSET_CURVES[paramset])


def sign_digest(key: GostPrivateKey, digest: bytes, backend: str | None = None) -> bytes:
    """Raw ``s || r`` over a Streebog-256 digest (OpenSSL/ESIA layout)."""
    if (backend or _backend) == "fast":
        r, s = gostfast.sign(_fast_curve(key.paramset), key.d, digest)
        return s.to_bytes(SIZE, "big") + r.to_bytes(SIZE, "big")
    rs = _engine(key.paramset).sign(bytearray(key.d.to_bytes(SIZE, "big")), bytearray(digest[::-1]))
    return bytes(rs[SIZE:] + rs[:SIZE])


def sign(key: GostPrivateKey, data: bytes, backend: str | None = None) -> bytes:
    return sign_digest(key, streebog256(data), backend)


def verify_gost(
    key: GostPublicKey | GostCertificate | bytes,
    data: bytes,
    signature: bytes,
    backend: str | None = None,
) -> bool:
    """True when ``signature`` (raw ``s || r``) is valid for ``data`` under the key.

    ``key`` is a public key, a parsed certificate or certificate bytes (PEM or DER). Malformed
    signatures verify as False rather than raising, so callers map them to one error.
    """
    if isinstance(key, bytes | bytearray):
        key = load_certificate(bytes(key))
    if isinstance(key, GostCertificate):
        key = key.public_key
    if len(signature) != 2 * SIZE:
        return False
    digest = streebog256(data)
    if (backend or _backend) == "fast":
        s, r = int.from_bytes(signature[:SIZE], "big"), int.from_bytes(signature[SIZE:], "big")
        return gostfast.verify(_fast_curve(key.paramset), (key.x, key.y), digest, r, s)
    rs = bytearray(signature[SIZE:] + signature[:SIZE])
    try:
        return bool(_engine(key.paramset).verify(key.raw_be(), bytearray(digest[::-1]), rs))
    except gostsignature.GOSTSignatureError:
        return False


# --- loading keys and certificates -------------------------------------------------------------


def _der(data: bytes, label: str) -> bytes:
    if pem.detect(data):
        try:
            found, _headers, der = pem.unarmor(data)
        except ValueError as exc:
            raise GostError(f"malformed PEM: {exc}") from None
        if found != label:
            raise GostError(f"expected a PEM {label}, found {found}")
        return der
    return data


def _read(source: bytes | str | Path) -> bytes:
    return source if isinstance(source, bytes) else Path(source).read_bytes()


def _paramset_of(algorithm: _AlgorithmIdentifier) -> str:
    oid = algorithm["algorithm"].dotted
    if oid == OID_GOST2012_512_KEY:
        raise GostError("GOST R 34.10-2012-512 keys are not supported (ESIA uses 256-bit keys)")
    if oid != OID_GOST2012_256_KEY:
        raise GostError(f"not a GOST R 34.10-2012-256 key: algorithm {oid}")
    params = _GostKeyParams.load(algorithm["parameters"].dump())
    paramset = params["public_key_param_set"].dotted
    if paramset not in PARAMSET_CURVES:
        raise GostError(f"unsupported GOST parameter set {paramset}")
    return paramset


def load_private_key(source: bytes | str | Path) -> GostPrivateKey:
    """PKCS#8 GOST key, PEM or DER, as written by ``openssl genpkey -engine gost``."""
    try:
        info = _PrivateKeyInfo.load(_der(_read(source), "PRIVATE KEY"))
        paramset = _paramset_of(info["private_key_algorithm"])
        raw = info["private_key"].native
    except GostError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise GostError(f"malformed GOST private key: {exc}") from None
    return GostPrivateKey(_private_scalar(raw), paramset)


def _private_scalar(raw: bytes) -> int:
    """The key as a 32-byte little-endian string; older engines wrap it in OCTET STRING/INTEGER."""
    if len(raw) == SIZE:
        return int.from_bytes(raw, "little")
    if raw[:1] == b"\x04":
        return int.from_bytes(core.OctetString.load(raw).native, "little")
    if raw[:1] == b"\x02":
        return core.Integer.load(raw).native
    raise GostError("malformed GOST private key value")


def public_key_from_spki(spki_der: bytes) -> GostPublicKey:
    spki = _SubjectPublicKeyInfo.load(spki_der)
    paramset = _paramset_of(spki["algorithm"])
    point = core.OctetString.load(bytes(spki["public_key"])).native
    if len(point) != 2 * SIZE:
        raise GostError("GOST public key must be 64 bytes")
    return GostPublicKey(
        int.from_bytes(point[:SIZE], "little"), int.from_bytes(point[SIZE:], "little"), paramset
    )


@dataclass(frozen=True)
class GostCertificate:
    der: bytes
    public_key: GostPublicKey
    subject: str
    issuer: str
    serial: int
    not_before: datetime
    not_after: datetime
    tbs_der: bytes
    signature: bytes

    @property
    def hash(self) -> str:
        return certificate_hash(self.der)

    def pem(self) -> bytes:
        return pem.armor("CERTIFICATE", self.der)

    def valid_at(self, moment: datetime) -> bool:
        return self.not_before <= moment <= self.not_after


def load_certificate(source: bytes | str | Path) -> GostCertificate:
    """An X.509 certificate with a GOST R 34.10-2012-256 key, PEM or DER."""
    der = _der(_read(source), "CERTIFICATE")
    try:
        cert = _Certificate.load(der)
        tbs = cert["tbs_certificate"]
        public_key = public_key_from_spki(tbs["subject_public_key_info"].dump())
        validity = tbs["validity"]
        return GostCertificate(
            der=der,
            public_key=public_key,
            subject=tbs["subject"].human_friendly,
            issuer=tbs["issuer"].human_friendly,
            serial=tbs["serial_number"].native,
            not_before=validity["not_before"].native,
            not_after=validity["not_after"].native,
            tbs_der=tbs.dump(),
            signature=bytes(cert["signature_value"]),
        )
    except GostError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise GostError(f"malformed GOST certificate: {exc}") from None


# --- generating dev/test material -------------------------------------------------------------


def generate_private_key(paramset: str = DEFAULT_PARAMSET) -> GostPrivateKey:
    q = _engine(paramset)._q  # the subgroup order
    return GostPrivateKey(secrets.randbelow(q - 1) + 1, paramset)


def make_self_signed_certificate(
    key: GostPrivateKey,
    common_name: str,
    organization: str = "Propusk development",
    days: int = 365,
    now: datetime | None = None,
) -> GostCertificate:
    """A self-signed X.509 v3 certificate signed with GOST R 34.10-2012 / Streebog-256."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    name = x509.Name.build({"common_name": common_name, "organization_name": organization})
    extensions = x509.Extensions(
        [
            {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": False}},
            {
                "extn_id": "key_usage",
                "critical": True,
                "extn_value": {"digital_signature", "non_repudiation"},
            },
        ]
    )
    tbs = _TbsCertificate(
        {
            "version": "v3",
            "serial_number": int.from_bytes(os.urandom(16), "big") >> 1,
            "signature": {"algorithm": OID_SIG_GOST2012_256},
            "issuer": name,
            "validity": {
                "not_before": x509.Time({"utc_time": now - timedelta(minutes=5)}),
                "not_after": x509.Time({"utc_time": now + timedelta(days=days)}),
            },
            "subject": name,
            "subject_public_key_info": key.public_key().spki(),
            "extensions": extensions,
        }
    )
    tbs_der = tbs.dump()
    cert = _Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": {"algorithm": OID_SIG_GOST2012_256},
            "signature_value": sign(key, tbs_der),
        }
    )
    return load_certificate(cert.dump())


def write_key_pair(
    key: GostPrivateKey, cert: GostCertificate, key_path: Path, cert_path: Path
) -> None:
    """Write PEM files atomically; the key file is readable by its owner only."""
    key_path.parent.mkdir(parents=True, exist_ok=True)
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(key_path, key.pkcs8_pem(), 0o600)
    _atomic_write(cert_path, cert.pem(), 0o644)


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        os.fchmod(fd, mode)
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, path)


# --- pluggable signers -------------------------------------------------------------------------


class Signer(Protocol):
    """Produces ESIA's raw 64-byte ``s || r`` signature; knows its certificate."""

    certificate_der: bytes

    def sign(self, data: bytes) -> bytes: ...


class GostcryptoSigner:
    """Pure-Python signer (gostcrypto): the default."""

    def __init__(self, key: GostPrivateKey, certificate: GostCertificate) -> None:
        if key.public_key() != certificate.public_key:
            raise GostError("the private key does not match the certificate")
        self._key = key
        self.certificate = certificate
        self.certificate_der = certificate.der

    @classmethod
    def from_files(cls, key_path: Path, cert_path: Path) -> GostcryptoSigner:
        return cls(load_private_key(key_path), load_certificate(cert_path))

    def sign(self, data: bytes) -> bytes:
        return sign(self._key, data)


class OpenSSLSigner:
    """External signer: ``openssl dgst -engine gost -md_gost12_256 -sign`` in a subprocess.

    Proves the signer is pluggable (CryptoPro or an HSM fit the same interface).
    """

    def __init__(self, key_path: Path, cert_path: Path, openssl: str = "openssl") -> None:
        self.key_path = Path(key_path)
        self.openssl = openssl
        self.certificate = load_certificate(cert_path)
        self.certificate_der = self.certificate.der

    def sign(self, data: bytes) -> bytes:
        cmd = [
            self.openssl,
            "dgst",
            "-engine",
            "gost",
            "-md_gost12_256",
            "-sign",
            str(self.key_path),
        ]
        done = subprocess.run(cmd, input=data, capture_output=True, check=False, timeout=30)
        if done.returncode != 0 or len(done.stdout) != 2 * SIZE:
            raise GostError(
                "openssl could not sign: " + done.stderr.decode(errors="replace")[-300:]
            )
        return done.stdout
