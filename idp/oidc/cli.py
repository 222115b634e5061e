"""CLI of idp.oidc: ``propusk clients create|list|delete`` and ``propusk keys rotate|list|retire``.

Works against the database in the settings (``PROPUSK_DATABASE_URL``), the one a running server
uses; servers pick changes up within their cache TTL (clients 10 s, signing key 30 s).
"""

from __future__ import annotations

import json
import uuid

import typer

from propusk.errors import Problem

clients_app = typer.Typer(no_args_is_help=True, help="OAuth/OIDC clients.")
keys_app = typer.Typer(no_args_is_help=True, help="Service signing keys (JWKS).")


def _runtime():
    from propusk.runtime import build_runtime

    return build_runtime()


def _fail(message: str) -> None:
    typer.echo(json.dumps({"error": message}, ensure_ascii=False), err=True)
    raise typer.Exit(2)


@clients_app.command("create")
def create(
    name: str = typer.Option(..., "--name"),
    grant: list[str] = typer.Option(
        ..., "--grant", help="authorization_code, refresh_token, client_credentials; repeat"
    ),
    redirect_uri: list[str] = typer.Option([], "--redirect-uri"),
    post_logout_redirect_uri: list[str] = typer.Option([], "--post-logout-redirect-uri"),
    auth_method: str = typer.Option("client_secret_basic", "--auth-method"),
    scope: list[str] = typer.Option([], "--scope", help="allowed scope; repeat or space-separate"),
    jwks: str | None = typer.Option(None, "--jwks", help="inline JWKS JSON"),
    jwks_uri: str | None = typer.Option(None, "--jwks-uri"),
    role: str | None = typer.Option(None, "--role", help="operator | supplier"),
    organization_id: str | None = typer.Option(None, "--organization-id"),
    id_token_alg: str = typer.Option("ES256", "--id-token-alg", help="ES256 | RS256"),
    first_party: bool = typer.Option(
        False, "--first-party", help="one of Propusk's own applications: no consent screen"
    ),
    return_uri: list[str] = typer.Option(
        [], "--return-uri", help="where the signing page may send people back; repeat"
    ),
    resource_server_for: list[str] = typer.Option(
        [], "--resource-server-for", help="a client whose tokens this one may introspect"
    ),
) -> None:
    """Register a client; prints one JSON object (client_secret only for secret methods)."""
    from idp.oidc import clients
    from propusk.db import session_scope

    jwks_doc = None
    if jwks:
        try:
            jwks_doc = json.loads(jwks)
        except ValueError:
            _fail("--jwks is not valid JSON")
    org = None
    if organization_id:
        try:
            org = uuid.UUID(organization_id)
        except ValueError:
            _fail("--organization-id must be a UUID")
    scopes = [s for item in scope for s in item.split()] or None
    rt = _runtime()
    try:
        with session_scope(rt.sessionmaker) as session:
            row, secret = clients.create_client(
                session,
                name=name,
                grant_types=grant,
                auth_method=auth_method,
                redirect_uris=redirect_uri,
                post_logout_redirect_uris=post_logout_redirect_uri,
                scopes=scopes,
                jwks=jwks_doc,
                jwks_uri=jwks_uri,
                role=role,
                organization_id=org,
                first_party=first_party,
                return_uris=return_uri,
                resource_server_for=resource_server_for,
                id_token_alg=id_token_alg,
                actor="cli",
            )
            out = clients.client_json(row)
    except Problem as exc:
        _fail(exc.detail or exc.title)
    finally:
        rt.dispose()
    if secret:
        out["client_secret"] = secret
    typer.echo(json.dumps(out, ensure_ascii=False))


@clients_app.command("list")
def list_() -> None:
    """All clients, one JSON array (no secrets)."""
    from idp.oidc import clients
    from propusk.db import session_scope

    rt = _runtime()
    try:
        with session_scope(rt.sessionmaker) as session:
            out = [clients.client_json(c) for c in clients.list_clients(session)]
    finally:
        rt.dispose()
    typer.echo(json.dumps(out, ensure_ascii=False, indent=2))


@clients_app.command("delete")
def delete(client_id: str = typer.Argument(...)) -> None:
    """Delete a client with its grants and tokens."""
    from idp.oidc import clients
    from propusk.db import session_scope

    rt = _runtime()
    try:
        with session_scope(rt.sessionmaker) as session:
            clients.delete_client(session, client_id, actor="cli")
    except Problem as exc:
        _fail(exc.detail or exc.title)
    finally:
        rt.dispose()
    typer.echo(json.dumps({"deleted": client_id}))


@clients_app.command("purge-expired")
def purge_expired() -> None:
    """Delete expired login transactions, sessions, codes, tokens and replay rows."""
    from idp.oidc import token_store
    from propusk.db import session_scope

    rt = _runtime()
    try:
        with session_scope(rt.sessionmaker) as session:
            counts = token_store.purge_expired(session)
    finally:
        rt.dispose()
    typer.echo(json.dumps(counts))


@keys_app.command("rotate")
def rotate() -> None:
    """Add new ES256 and RS256 keys and make them current; old keys keep verifying."""
    from idp.oidc import keys
    from propusk.db import session_scope

    rt = _runtime()
    try:
        with session_scope(rt.sessionmaker) as session:
            keys.ensure_keys(session, rt.settings)
            kids = keys.rotate(session, rt.settings, actor="cli")
    finally:
        rt.dispose()
    typer.echo(json.dumps({"current": kids}))


@keys_app.command("list")
def list_keys() -> None:
    """All keys with their state (no private material)."""
    from idp.oidc import repository
    from propusk.db import session_scope

    rt = _runtime()
    try:
        with session_scope(rt.sessionmaker) as session:
            out = [
                {
                    "kid": k.kid,
                    "alg": k.alg,
                    "created_at": k.created_at.isoformat(),
                    "retired_at": k.retired_at.isoformat() if k.retired_at else None,
                }
                for k in repository.all_keys(session)
            ]
    finally:
        rt.dispose()
    typer.echo(json.dumps(out, indent=2))


@keys_app.command("retire")
def retire(kid: str = typer.Argument(...)) -> None:
    """Stop publishing and accepting a key (tokens it signed stop verifying)."""
    from idp.oidc import keys
    from propusk.db import session_scope

    rt = _runtime()
    try:
        with session_scope(rt.sessionmaker) as session:
            done = keys.retire(session, kid, actor="cli")
    except ValueError as exc:
        _fail(str(exc))
    finally:
        rt.dispose()
    if not done:
        _fail(f"no active key {kid}")
    typer.echo(json.dumps({"retired": kid}))


def register(app: typer.Typer) -> None:
    """Mount this sub-package's command groups on the root CLI."""
    app.add_typer(clients_app, name="clients", help="OAuth/OIDC clients.")
    app.add_typer(keys_app, name="keys", help="Service signing keys.")
