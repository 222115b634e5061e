"""Configuration of the ESIA simulator: its signing key, registered clients, demo data, timing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from idp.esia.connector import CALLBACK_PATH
from idp.esia.gost import GostCertificate, Signer, load_certificate
from idp.esia.keys import DEV_DIR, client_paths, load_signer, simulator_paths
from idp.esia.simulator.data import DemoData, default_demo
from propusk.settings import Settings


@dataclass
class RegisteredClient:
    """An information system registered "on the tech portal": мнемоника, certificates, URLs.

    ``certificates`` maps the expected ``client_certificate_hash`` (uppercase) to the
    certificate; several entries model a certificate rotation. A redirect URI entry without a
    path (``https://school.example``) allows any URL of that origin, as ESIA registers domains.
    """

    client_id: str
    certificates: dict[str, GostCertificate]
    redirect_uris: list[str]

    @classmethod
    def from_certificates(
        cls,
        client_id: str,
        certificates: list[GostCertificate],
        redirect_uris: list[str],
        extra_hashes: dict[str, GostCertificate] | None = None,
    ) -> RegisteredClient:
        by_hash = {cert.hash: cert for cert in certificates}
        by_hash.update({h.upper(): cert for h, cert in (extra_hashes or {}).items()})
        return cls(client_id, by_hash, list(redirect_uris))

    def allows_redirect(self, uri: str) -> bool:
        for registered in self.redirect_uris:
            if uri == registered:
                return True
            if registered.count("/") == 2 and uri.startswith(registered.rstrip("/") + "/"):
                return True
        return False


@dataclass
class SimulatorConfig:
    base_url: str
    signer: Signer
    clients: dict[str, RegisteredClient]
    data: DemoData = field(default_factory=default_demo)
    issuer: str | None = None
    timestamp_window: int = 300  # seconds either way before ESIA-007015
    code_ttl: int = 300
    token_ttl: int = 3600
    token_time_offset: int = 0  # shifts iat/nbf/exp of issued tokens (tests of expiry)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    @property
    def token_issuer(self) -> str:
        return self.issuer or self.base_url.rstrip("/") + "/"

    @property
    def certificate(self) -> GostCertificate:
        return load_certificate(self.signer.certificate_der)

    @classmethod
    def from_settings(cls, settings: Settings, directory: Path = DEV_DIR) -> SimulatorConfig:
        """The simulator paired with this instance's connector (demo mode, tests)."""
        _key_path, cert_path = client_paths(settings, directory)
        client_cert = load_certificate(cert_path)
        extra = {settings.esia_cert_hash: client_cert} if settings.esia_cert_hash else None
        client = RegisteredClient.from_certificates(
            settings.esia_client_id,
            [client_cert],
            [settings.issuer.rstrip("/") + CALLBACK_PATH],
            extra,
        )
        sim_key, sim_cert = simulator_paths(directory)
        return cls(
            base_url=settings.esia_sim_base,
            signer=load_signer(sim_key, sim_cert),
            clients={client.client_id: client},
        )
