"""The ``propusk`` command line: serve, demo, db, and each package's commands.

Every command works against the database named in the settings, the same one a running server
uses.
"""

from __future__ import annotations

import typer

from propusk.settings import get_settings

app = typer.Typer(no_args_is_help=True, help="Propusk: identity, consent and data governance.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
app.add_typer(db_app, name="db")


def _mount_packages() -> None:
    from audit.cli import app as audit_app
    from biometrics.cli import app as biometrics_app
    from consent.cli import app as consent_app
    from idp.cli import register as register_idp
    from policies.cli import app as policy_app

    app.add_typer(audit_app, name="audit", help="Tamper-evident audit log.")
    app.add_typer(policy_app, name="policy", help="Access policy (Casbin).")
    app.add_typer(consent_app, name="consent", help="Consent ledger.")
    app.add_typer(biometrics_app, name="biometrics", help="Face verification.")
    register_idp(app)  # clients, keys, esia-sim, people ...


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply Alembic migrations to the configured database."""
    from propusk.migrate import upgrade

    upgrade(get_settings().database_url, revision)
    typer.echo(f"database at {revision}")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000),
    workers: int = typer.Option(1),
    access_log: bool = typer.Option(True, help="Log one line per request (no bodies)."),
) -> None:
    """Serve the API and web UI with uvicorn (``--workers N``: N processes on one socket)."""
    import shutil

    import uvicorn

    settings = get_settings()
    settings.check_production()
    metrics_dir = _metrics_dir(workers)
    try:
        uvicorn.run(
            "propusk.asgi:app",
            host=host,
            port=port,
            workers=workers,
            log_level=settings.log_level.lower(),
            # JSON lines: propusk.asgi installs the handlers in every worker process
            log_config=None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG,
            proxy_headers=True,
            access_log=access_log,
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _metrics_dir(workers: int) -> str | None:
    """With several workers, a fresh private directory for the Prometheus values they share
    (``propusk.observability``), named to the workers by the environment they inherit (they are
    spawned: prometheus-client reads it as they import it). Fresh, because files left by an
    earlier run (or another server) would be summed in as if this run had counted them; private
    (0700, removed when the server stops), because whoever writes there writes the figures.
    One worker exposes its own registry and needs none."""
    import os
    import tempfile

    from propusk.observability import MULTIPROCESS_ENV

    if workers <= 1:
        return None
    path = tempfile.mkdtemp(prefix="propusk-metrics-")
    os.environ[MULTIPROCESS_ENV] = path
    return path


@app.command()
def demo(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000),
    states: bool = typer.Option(
        False,
        "--states",
        help="Also seed lived-in cabinets: consents in every state, transfers, demands "
        "(propusk.demo_states) for three demo people.",
    ),
) -> None:
    """Migrate, seed the demo data and serve with the ESIA simulator mounted."""
    import os

    os.environ.setdefault("PROPUSK_DEMO", "true")
    os.environ.setdefault("PROPUSK_ISSUER", f"http://{host}:{port}")
    os.environ.setdefault("PROPUSK_UPSTREAM", "simulator")
    get_settings.cache_clear()
    settings = get_settings()
    if settings.env == "production":
        raise typer.BadParameter("demo mode is refused in production")
    from propusk.demo import seed
    from propusk.migrate import upgrade

    upgrade(settings.database_url)
    seed(settings)
    if states:
        _seed_states(settings)
    typer.echo(f"Propusk demo on http://{host}:{port}  (ESIA simulator at /esia-sim)")
    import uvicorn

    uvicorn.run("propusk.asgi:app", host=host, port=port, log_level="info")


def _seed_states(settings) -> None:
    """Seed the lived-in states and say who to log in as in the ESIA simulator."""
    from propusk.demo_states import seed_states

    report = seed_states(settings)
    for name, persona in report.personas.items():
        states = ", ".join(f"{state} {len(ids)}" for state, ids in sorted(persona.consents.items()))
        made = "seeded" if persona.made_now else "already there"
        typer.echo(f"{name}: log in as {persona.login_oid} ({made}) — consents: {states}")


_mount_packages()


def main() -> None:
    app()
