"""Key material of the connector (the IS's GOST key and certificate) and of the simulator.

Configured paths win. Outside production, missing material is generated at first use into
``./var/esia/`` (self-signed GOST certificates built in Python): nothing secret is committed and
``make run`` works with nothing configured. Generation holds a file lock, so parallel test
workers and instances end up with one consistent pair.
"""

from __future__ import annotations

import fcntl
from functools import lru_cache
from pathlib import Path

from idp.esia.gost import (
    GostcryptoSigner,
    generate_private_key,
    load_certificate,
    load_private_key,
    make_self_signed_certificate,
    write_key_pair,
)
from propusk.settings import Settings

DEV_DIR = Path("var/esia")
CLIENT_KEY, CLIENT_CERT = "client-key.pem", "client-cert.pem"
SIM_KEY, SIM_CERT = "sim-key.pem", "sim-cert.pem"


def ensure_key_pair(
    key_path: Path, cert_path: Path, common_name: str, organization: str = "Propusk development"
) -> None:
    """Create a GOST key and a self-signed certificate unless both files exist."""
    if key_path.exists() and cert_path.exists():
        return
    key_path.parent.mkdir(parents=True, exist_ok=True)
    with open(key_path.parent / ".keygen.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if key_path.exists() and cert_path.exists():
            return
        key = generate_private_key()
        cert = make_self_signed_certificate(key, common_name, organization, days=3 * 365)
        write_key_pair(key, cert, key_path, cert_path)


@lru_cache(maxsize=32)
def _signer(key_path: Path, cert_path: Path, _stamp: tuple[float, float]) -> GostcryptoSigner:
    return GostcryptoSigner(load_private_key(key_path), load_certificate(cert_path))


def load_signer(key_path: Path, cert_path: Path) -> GostcryptoSigner:
    """A cached signer; reloaded when either file changes (key rotation)."""
    key_path, cert_path = Path(key_path).resolve(), Path(cert_path).resolve()
    stamp = (key_path.stat().st_mtime, cert_path.stat().st_mtime)
    return _signer(key_path, cert_path, stamp)


def client_paths(settings: Settings, directory: Path = DEV_DIR) -> tuple[Path, Path]:
    """The connector's key and certificate: from settings, or dev material (not in production)."""
    if settings.esia_key_path and settings.esia_cert_path:
        return settings.esia_key_path, settings.esia_cert_path
    if settings.env == "production":
        raise RuntimeError("PROPUSK_ESIA_KEY_PATH and PROPUSK_ESIA_CERT_PATH are required")
    key_path, cert_path = directory / CLIENT_KEY, directory / CLIENT_CERT
    ensure_key_pair(key_path, cert_path, f"{settings.esia_client_id} (dev ESIA client)")
    return key_path, cert_path


def simulator_paths(directory: Path = DEV_DIR) -> tuple[Path, Path]:
    """The simulator's own signing key ("the ESIA certificate" of the demo)."""
    key_path, cert_path = directory / SIM_KEY, directory / SIM_CERT
    ensure_key_pair(key_path, cert_path, "ESIA simulator", "Propusk ESIA simulator")
    return key_path, cert_path
