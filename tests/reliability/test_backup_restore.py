"""Backup and restore as docs/operations.md tells an operator to do it: ``pg_dump -Fc`` of a
database with real audit activity, ``pg_restore`` into a new database, then ``propusk audit
verify`` (the CLI, as a process, on the restored copy) must pass with the same tree as the
original — and must fail once one audit row of the copy is edited.

Why a process and real tools: a restore that loses the checkpoint key, a trigger or the outbox
shows up only when the real binaries move the real bytes and the real CLI reads them."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from consent import flows
from consent.gate import Ask
from consent.lifecycle import withdraw
from propusk.cli import app as cli
from propusk.db import make_engine, session_scope, utcnow
from propusk.runtime import build_runtime
from propusk.settings import get_settings
from tests.support.consent_world import given_consent, operator_with_template
from tests.support.processes import CLI, process_env
from tests.support.settings import PG_URL, make_settings


def _pg_tool(name: str, server_major: int) -> str | None:
    """The client tool of the server's major version: pg_dump refuses a newer server, and a
    newer pg_dump writes archives an older pg_restore cannot read."""
    for candidate in (f"/usr/lib/postgresql/{server_major}/bin/{name}", shutil.which(name)):
        if candidate and Path(candidate).exists():
            out = subprocess.run([candidate, "--version"], capture_output=True, text=True)
            if re.search(rf"\) {server_major}\.", out.stdout):
                return candidate
    return None


def _libpq(url: str) -> str:
    """The SQLAlchemy URL as a libpq connection string for pg_dump and pg_restore."""
    u = make_url(url)
    parts = [f"host={u.host or '127.0.0.1'}", f"port={u.port or 5432}", f"dbname={u.database}"]
    parts.append(f"user={u.username or 'postgres'}")
    if u.password:
        parts.append(f"password={u.password}")
    return " ".join(parts)


def _propusk(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``propusk ARGS`` as an operator runs it, against the database at ``url``."""
    env = process_env(url, 0, issuer=make_settings(url).issuer)  # origin of the checkpoints
    return subprocess.run(
        [str(CLI), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _propusk_here(monkeypatch, url: str, *args: str):
    """The same command in this process (the original's side: one interpreter start less)."""
    for key, value in process_env(url, 0, issuer=make_settings(url).issuer).items():
        if key.startswith("PROPUSK_"):
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, list(args))
    finally:
        get_settings.cache_clear()


def _activity(url: str) -> None:
    """Consents granted and one withdrawn, gated transfers allowed and refused: audit events
    recorded both ways (in the transaction and through the outbox)."""
    rt = build_runtime(make_settings(url))
    try:
        org_id, tpl_id = operator_with_template(rt)
        given = [given_consent(rt, org_id, tpl_id) for _ in range(3)]
        with session_scope(rt.sessionmaker) as s:
            withdraw(s, given[0][1], given[0][0], now=utcnow())
        asks = [
            flows.TransferAsk(
                Ask(org_id, person_id, "attestation.online", ["person.fullname"]), "check", "test"
            )
            for person_id, _ in given
        ]
        with session_scope(rt.sessionmaker) as s:
            outcomes = flows.gated_transfers(s, asks, utcnow())
        assert [d.outcome for d, _, _ in outcomes] == ["refused", "allowed", "allowed"]  # withdrawn
    finally:
        rt.dispose()


@pytest.mark.postgres
def test_a_restored_dump_verifies_and_a_tampered_copy_does_not(fresh_pg, tmp_path, monkeypatch):
    original = fresh_pg()
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            major = int(conn.execute(text("SHOW server_version_num")).scalar()) // 10000
        pg_dump, pg_restore = _pg_tool("pg_dump", major), _pg_tool("pg_restore", major)
        if not (pg_dump and pg_restore):
            pytest.skip(f"no pg_dump/pg_restore of PostgreSQL {major}")
        _activity(original)
        sequenced = _propusk_here(monkeypatch, original, "audit", "sequence")
        assert sequenced.exit_code == 0, sequenced.output
        assert "; 0 pending;" in sequenced.output  # the outbox drained before the dump
        before = _propusk_here(monkeypatch, original, "audit", "verify")
        assert before.exit_code == 0, before.output
        size = int(re.search(r"OK: (\d+) events", before.output).group(1))
        assert size >= 10  # logins, consents, a withdrawal, gate decisions

        dump = tmp_path / "propusk.dump"
        subprocess.run(
            [pg_dump, "-Fc", "--no-owner", "-f", str(dump), "-d", _libpq(original)], check=True
        )
        name = f"propusk_restored_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            restored = make_url(original).set(database=name).render_as_string(False)
            subprocess.run(
                [pg_restore, "--no-owner", "--exit-on-error", "-d", _libpq(restored), str(dump)],
                check=True,
            )
            after = _propusk(restored, "audit", "verify")
            assert after.returncode == 0, after.stdout + after.stderr
            assert after.stdout.splitlines()[0] == before.output.splitlines()[0]  # size, root

            _tamper(restored, index=size // 2)
            broken = _propusk(restored, "audit", "verify")
            assert broken.returncode == 1, broken.stdout
            assert f"first divergent position {size // 2}" in broken.stderr
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _tamper(url: str, index: int) -> None:
    """Rewrite one event's actor in its leaf, as someone with the database superuser would: the
    append-only triggers are bypassed for this session only (``session_replication_role``)."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            leaf = conn.execute(
                text("SELECT leaf FROM audit_event WHERE idx = :i"), {"i": index}
            ).scalar_one()
            edited = leaf.replace(b'"actor":"', b'"actor":"x', 1)
            assert edited != leaf
            conn.execute(
                text("UPDATE audit_event SET leaf = :l WHERE idx = :i"), {"l": edited, "i": index}
            )
    finally:
        engine.dispose()
