"""CLI commands of idp.esia: ``propusk esia-sim`` and ``propusk esia keygen|cert-hash|sign``."""

from __future__ import annotations

from pathlib import Path

import typer

esia_app = typer.Typer(no_args_is_help=True, help="ESIA connector: GOST keys and certificates.")


def register(app: typer.Typer) -> None:
    """Mount this sub-package's command groups on the root CLI."""
    app.command("esia-sim")(esia_sim)
    app.add_typer(esia_app, name="esia")


def esia_sim(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8001),
    public_url: str | None = typer.Option(
        None, help="Base URL clients see (default http://host:port)."
    ),
    redirect_uri: list[str] = typer.Option(
        [], help="Registered redirect URI (repeatable; default: {issuer}/login/esia/callback)."
    ),
) -> None:
    """Serve the ESIA simulator alone (point PROPUSK_ESIA_SIMULATOR_URL at it)."""
    import uvicorn

    from idp.esia.gost import set_backend
    from idp.esia.simulator.app import create_simulator_app
    from idp.esia.simulator.config import SimulatorConfig
    from propusk.settings import get_settings

    settings = get_settings()
    if settings.env == "production":
        raise typer.BadParameter("the ESIA simulator is refused in production")
    set_backend(settings.esia_gost_backend)
    base = public_url or f"http://{host}:{port}"
    config = SimulatorConfig.from_settings(settings.model_copy(update={"esia_simulator_url": base}))
    if redirect_uri:
        for client in config.clients.values():
            client.redirect_uris = list(redirect_uri)
    typer.echo(f"ESIA simulator on {base} (certificate: {base}/public/cert.pem)")
    uvicorn.run(create_simulator_app(config), host=host, port=port, log_level="info")


@esia_app.command("keygen")
def keygen(
    key: Path = typer.Option(..., help="Where to write the PKCS#8 private key (PEM)."),
    cert: Path = typer.Option(..., help="Where to write the self-signed certificate (PEM)."),
    common_name: str = typer.Option("PROPUSK", help="Certificate subject CN."),
    days: int = typer.Option(365),
) -> None:
    """Generate a GOST R 34.10-2012-256 key (CryptoPro-A) and a self-signed certificate."""
    from idp.esia.gost import generate_private_key, make_self_signed_certificate, write_key_pair

    private = generate_private_key()
    certificate = make_self_signed_certificate(private, common_name, days=days)
    write_key_pair(private, certificate, key, cert)
    typer.echo(f"client_certificate_hash {certificate.hash}")


@esia_app.command("info")
def info() -> None:
    """Show the configured ESIA connection: environment, client certificate, trusted certs."""
    from datetime import UTC, datetime

    from idp.esia.gost import load_certificate
    from idp.esia.keys import client_paths
    from idp.esia.tokens import load_trusted
    from idp.esia.upstream import environment_for
    from propusk.settings import get_settings

    settings = get_settings()
    environment = environment_for(settings)
    _, cert_path = client_paths(settings)
    cert = load_certificate(cert_path)
    now = datetime.now(UTC)
    state = "valid" if cert.valid_at(now) else "NOT VALID NOW"
    typer.echo(
        f"environment   {environment.name} {environment.base_url} (iss {environment.issuer})"
    )
    typer.echo(f"client_id     {settings.esia_client_id}")
    typer.echo(f"certificate   {cert_path}: {cert.subject}")
    typer.echo(f"validity      {cert.not_before:%Y-%m-%d} .. {cert.not_after:%Y-%m-%d} ({state})")
    typer.echo(f"cert hash     {settings.esia_cert_hash or cert.hash}")
    typer.echo(f"redirect_uri  {settings.issuer.rstrip('/')}/login/esia/callback")
    typer.echo(f"scope         {settings.esia_scope}")
    for path in settings.esia_trusted_certs:
        typer.echo(f"trusted       {path}: {len(load_trusted(path))} certificate(s)")
    if not settings.esia_trusted_certs:
        typer.echo("trusted       (none configured: only the simulator's published certificate)")


@esia_app.command("cert-hash")
def cert_hash(cert: Path) -> None:
    """Print ``client_certificate_hash`` (uppercase hex Streebog-256 of the DER certificate)."""
    from idp.esia.gost import load_certificate

    typer.echo(load_certificate(cert).hash)


@esia_app.command("sign")
def sign_text(
    text: str,
    key: Path = typer.Option(...),
    cert: Path = typer.Option(...),
) -> None:
    """Sign a string as ESIA's client_secret (base64url of the raw 64-byte signature)."""
    from idp.esia.connector import encode_secret
    from idp.esia.gost import GostcryptoSigner

    typer.echo(encode_secret(GostcryptoSigner.from_files(key, cert).sign(text.encode())))
