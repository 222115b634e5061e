"""CLI commands for schools, rosters, operator organisations and the platform-admin bootstrap.

``propusk schools add|list``, ``propusk roster import OGRN FILE``, ``propusk orgs add|list``,
``propusk admin grant-platform-admin ESIA_OID``. Each command is one transaction against the
configured database; problems print their detail and exit with status 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from sqlalchemy.orm import Session

from propusk.errors import Problem

schools_app = typer.Typer(no_args_is_help=True, help="Registered schools.")
roster_app = typer.Typer(no_args_is_help=True, help="School rosters (students and teachers).")
orgs_app = typer.Typer(no_args_is_help=True, help="Operator and supplier organisations.")
admin_app = typer.Typer(no_args_is_help=True, help="Platform administration bootstrap.")

CLI_ACTOR = "cli"


@contextmanager
def _session() -> Iterator[tuple[Session, Any]]:
    from propusk.db import session_scope
    from propusk.runtime import build_runtime

    runtime = build_runtime()
    try:
        with session_scope(runtime.sessionmaker) as session:
            yield session, runtime.settings
    finally:
        runtime.dispose()


def _run(fn: Callable[[Session, Any], Any]) -> Any:
    """Run one transaction; turn a Problem into a readable error and exit code 1."""
    try:
        with _session() as (session, settings):
            return fn(session, settings)
    except Problem as exc:
        typer.echo(f"error: {exc.detail or exc.title}", err=True)
        for err in exc.extra.get("errors", []):
            typer.echo(f"  line {err['line']}: {err['field']}: {err['message']}", err=True)
        raise typer.Exit(1) from None


@schools_app.command("add")
def schools_add(
    ogrn: str = typer.Option(..., help="ОГРН (13 digits, valid check digit)"),
    name: str = typer.Option(..., help="Full name of the school"),
    org_oid: str = typer.Option(None, help="ESIA organisation oid"),
    region: str = typer.Option(None),
    short_name: str = typer.Option(None),
) -> None:
    """Register a school."""
    from idp import schools

    def add(session: Session, _settings) -> str:
        school = schools.register_school(
            session,
            ogrn=ogrn,
            name=name,
            org_oid=org_oid,
            region=region,
            short_name=short_name,
            actor=CLI_ACTOR,
        )
        return str(school.id)

    typer.echo(_run(add))


@schools_app.command("list")
def schools_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List registered schools."""
    from idp import schools

    def rows(session: Session, _settings) -> list[dict]:
        return [
            {
                "id": str(s.id),
                "ogrn": s.ogrn,
                "org_oid": s.esia_org_oid,
                "name": s.name,
                "region": s.region,
            }
            for s in schools.list_schools(session)
        ]

    data = _run(rows)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    for s in data:
        typer.echo(f"{s['id']}  {s['ogrn']}  {s['org_oid'] or '-':>12}  {s['name']}")


@roster_app.command("import")
def roster_import(
    school_ogrn: str = typer.Argument(..., help="ОГРН of the school"),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    confirmed_by: str = typer.Option(CLI_ACTOR, help="Who confirms the roster (recorded)"),
) -> None:
    """Replace a school's roster from a file as schools export it — CSV («,» or «;», UTF-8 or
    Windows-1251) or XLSX — (all rows valid, or nothing imported)."""
    from idp import roster, schools

    data = file.read_bytes()

    def do(session: Session, settings) -> dict:
        school = schools.school_by_ogrn(session, school_ogrn)
        return roster.import_roster(
            session, school.id, data, confirmed_by, settings=settings
        ).as_dict()

    typer.echo(json.dumps(_run(do), ensure_ascii=False))


@orgs_app.command("add")
def orgs_add(
    ogrn: str = typer.Option(...),
    name: str = typer.Option(...),
    org_oid: str = typer.Option(None, help="ESIA organisation oid"),
    kind: str = typer.Option("operator", help="operator | supplier"),
) -> None:
    """Register an operator or supplier organisation (its ESIA employees: operator_staff)."""
    from idp import schools

    typer.echo(
        _run(
            lambda s, _: str(
                schools.register_operator_org(s, org_oid, ogrn, name, kind=kind, actor=CLI_ACTOR)
            )
        )
    )


@orgs_app.command("list")
def orgs_list() -> None:
    from idp import schools

    def rows(session: Session, _settings) -> list[str]:
        return [
            f"{o.id}  {o.kind:<8}  {o.ogrn}  {o.name}" for o in schools.list_organizations(session)
        ]

    for line in _run(rows):
        typer.echo(line)


@admin_app.command("grant-platform-admin")
def grant_platform_admin(esia_oid: str = typer.Argument(...)) -> None:
    """Make a person (who has logged in once) a platform admin — the CLI-only bootstrap."""
    from idp import statuses

    def grant(session: Session, _settings) -> str:
        status = statuses.grant_platform_admin(session, esia_oid, actor=CLI_ACTOR)
        return f"person:{status.person_id} is platform_admin"

    typer.echo(_run(grant))


def register(app: typer.Typer) -> None:
    """Mount the people/school command groups on the root CLI."""
    app.add_typer(schools_app, name="schools")
    app.add_typer(roster_app, name="roster")
    app.add_typer(orgs_app, name="orgs")
    app.add_typer(admin_app, name="admin")
