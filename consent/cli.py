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
    from consent.catalogue import load_catalogue
    from propusk.db import session_scope

    data = json.loads(path.read_text(encoding="utf-8")) if path else None
    rt = _runtime()
    try:
        with session_scope(rt.sessionmaker) as session:
            cats, purps = load_catalogue(session, data)
    finally:
        rt.dispose()
    typer.echo(f"catalogue: {cats} categories, {purps} purposes")


@app.command("expire")
def expire() -> None:
    """Expire unanswered requests and lapsed consents (also done lazily on reads)."""
    from consent.lifecycle import expire_due
    from propusk.db import session_scope, utcnow

    rt = _runtime()
    try:
        with session_scope(rt.sessionmaker) as session:
            n = expire_due(session, utcnow())
    finally:
        rt.dispose()
    typer.echo(f"expired: {n}")


@app.command("overdue")
def overdue(
    on: str | None = typer.Option(None, help="the date to check, YYYY-MM-DD (default: now)"),
) -> None:
    """List every missed 152-FZ deadline (destruction tasks, demands, requests, incidents,
    RKN requests: consent.obligations); exit 1 if any."""
    from datetime import datetime, time

    from consent import deadlines
    from consent.obligations.reports import overdue as overdue_rows
    from propusk.db import session_scope, utcnow

    now = datetime.combine(date.fromisoformat(on), time(0), deadlines.MOSCOW) if on else utcnow()
    rt = _runtime()
    try:
        with session_scope(rt.sessionmaker) as session:
            rows = overdue_rows(session, now)
            for row in rows:
                ref = row.get("obligation_id") or row.get("task_id")
                typer.echo(
                    f"{ref}\tkind={row['kind']}\tclock={row['clock']}\t"
                    f"due={row['due_date'] or row['due_at']}\toperator={row['operator_id']}"
                )
    finally:
        rt.dispose()
    typer.echo(f"overdue: {len(rows)}")
    if rows:
        raise typer.Exit(1)
