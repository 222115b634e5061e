"""CLI commands of the consent package (mounted by propusk.cli as ``propusk consent``)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True)
catalogue_app = typer.Typer(no_args_is_help=True, help="Data categories and purposes.")
app.add_typer(catalogue_app, name="catalogue")


def _runtime():
    from propusk.runtime import build_runtime

    return build_runtime()


@catalogue_app.command("load")
def catalogue_load(
    path: Path | None = typer.Argument(None, help="JSON file (default: the built-in catalogue)"),
) -> None:
    """Upsert categories and purposes."""
    from consent import service
    from propusk.db import session_scope

    data = json.loads(path.read_text(encoding="utf-8")) if path else None
    rt = _runtime()
    try:
        with session_scope(rt.sessionmaker) as session:
            cats, purps = service.load_catalogue(session, data)
    finally:
        rt.dispose()
    typer.echo(f"catalogue: {cats} categories, {purps} purposes")


@app.command("expire")
def expire() -> None:
    """Expire unanswered requests and lapsed consents (also done lazily on reads)."""
    from consent import service
    from propusk.db import session_scope, utcnow

    rt = _runtime()
    try:
        with session_scope(rt.sessionmaker) as session:
            n = service.expire_due(session, utcnow())
    finally:
        rt.dispose()
    typer.echo(f"expired: {n}")


@app.command("overdue")
def overdue(
    on: str | None = typer.Option(None, help="the date to check, YYYY-MM-DD (default: today)"),
) -> None:
    """List destruction tasks (art. 21 part 5) past their due date; exit 1 if any."""
    from consent import deadlines, service
    from propusk.db import session_scope, utcnow

    today = date.fromisoformat(on) if on else deadlines.receipt_date(utcnow())
    rt = _runtime()
    try:
        with session_scope(rt.sessionmaker) as session:
            tasks = service.overdue(session, today)
            for t in tasks:
                typer.echo(
                    f"{t.id}\toperator={t.operator_id}\tconsent={t.consent_id}\t"
                    f"due={t.due_date.isoformat()}\treason={t.reason}"
                )
    finally:
        rt.dispose()
    typer.echo(f"overdue: {len(tasks)}")
    if tasks:
        raise typer.Exit(1)
