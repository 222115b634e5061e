"""``propusk policy ...``: list, explain, add/remove rules, grant/revoke roles, history."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy.orm import Session

from propusk.errors import Problem

app = typer.Typer(no_args_is_help=True)

ACTOR = "system:cli"


@contextmanager
def _session() -> Iterator[Session]:
    """One transaction against the configured database (the one servers use)."""
    from propusk.db import session_scope
    from propusk.runtime import build_runtime

    runtime = build_runtime()
    try:
        with session_scope(runtime.sessionmaker) as session:
            yield session
    finally:
        runtime.dispose()


def _fail(problem: Problem) -> None:
    typer.echo(f"error: {problem.detail or problem.title}", err=True)
    raise typer.Exit(code=2)


@app.command("explain")
def explain_cmd(subject: str, domain: str, obj: str, action: str) -> None:
    """Show which rule allows SUBJECT to ACTION on OBJ in DOMAIN, or that none does."""
    from policies import service

    try:
        with _session() as session:
            decision = service.explain(session, subject, domain, obj, action)
    except Problem as problem:
        _fail(problem)
    data = decision.as_dict()
    if decision.allowed:
        rule = data["rule"]
        typer.echo(
            f"ALLOW {decision.permission} for {subject} in {domain}: rule "
            f"p, {rule['role']}, {rule['domain']}, {rule['object']}, {rule['action']}, "
            f"{rule['condition']} ({rule['source']}) via {data['via']} in "
            f"{data['matched_domain']} [policy v{decision.version}]"
        )
    else:
        typer.echo(
            f"DENY {decision.permission} for {subject} in {domain}: no rule matched "
            f"(domains tried: {', '.join(decision.tried_domains) or '-'}) "
            f"[policy v{decision.version}]"
        )
        raise typer.Exit(code=1)


@app.command("list")
def list_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """Print the policy: file rules, admin rules, version."""
    from policies import service

    with _session() as session:
        data = service.list_policy(session)
    if as_json:
        data.pop("model")
        typer.echo(json.dumps(data, default=str, indent=2))
        return
    typer.echo(f"# policy version {data['version']}, {data['role_links']} role links")
    for r in data["rules"]:
        rid = f"  # {r['id']}" if r["id"] else ""
        typer.echo(
            f"p, {r['role']}, {r['domain']}, {r['object']}, {r['action']}, {r['condition']}"
            f"  [{r['source']}]{rid}"
        )


@app.command("add")
def add_cmd(
    role: str,
    domain: str,
    obj: str,
    action: str,
    condition: str = typer.Option("any", "--cond"),
) -> None:
    """Add a rule ``p, ROLE, DOMAIN, OBJ, ACTION, COND`` (versioned and audited)."""
    from policies import service

    try:
        with _session() as session:
            rule = service.add_rule(session, ACTOR, role, domain, obj, action, condition)
    except Problem as problem:
        _fail(problem)
    typer.echo(f"added rule {rule['id']}")


@app.command("remove")
def remove_cmd(rule_id: str) -> None:
    """Remove an admin-added rule by id."""
    from policies import service

    try:
        with _session() as session:
            service.remove_rule(session, ACTOR, uuid.UUID(rule_id))
    except ValueError:
        typer.echo("error: rule id must be a UUID", err=True)
        raise typer.Exit(code=2) from None
    except Problem as problem:
        _fail(problem)
    typer.echo(f"removed rule {rule_id}")


@app.command("grant")
def grant_cmd(subject: str, role: str, domain: str) -> None:
    """Grant ROLE in DOMAIN to SUBJECT by hand (e.g. the first platform_admin in '*')."""
    from policies import service

    try:
        with _session() as session:
            version = service.grant_role(session, ACTOR, subject, role, domain)
    except Problem as problem:
        _fail(problem)
    typer.echo(f"granted {role} in {domain} to {subject} (policy v{version})")


@app.command("revoke")
def revoke_cmd(subject: str, role: str, domain: str) -> None:
    """Revoke a role granted by hand."""
    from policies import service

    try:
        with _session() as session:
            version = service.revoke_role(session, ACTOR, subject, role, domain)
    except Problem as problem:
        _fail(problem)
    typer.echo(f"revoked {role} in {domain} from {subject} (policy v{version})")


@app.command("history")
def history_cmd(limit: int = typer.Option(20)) -> None:
    """The latest policy changes (version, kind, actor, subject)."""
    from policies import service

    with _session() as session:
        rows = service.history(session, limit)
    for c in rows:
        typer.echo(
            f"v{c['version']} {c['changed_at']:%Y-%m-%d %H:%M:%S} {c['kind']} by {c['actor']}"
            f" {c['subject'] or ''} {json.dumps(c['detail'], ensure_ascii=False)}"
        )
