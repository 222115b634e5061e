"""``propusk schools|roster|orgs|admin`` against a real database."""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from idp.login import on_login
from idp.statuses import role_grants
from propusk.cli import app
from propusk.db import session_scope
from propusk.settings import get_settings
from tests.idp import factories as f
from tests.idp.school_world import xlsx_bytes


@pytest.fixture
def cli(db_url, monkeypatch):
    monkeypatch.setenv("PROPUSK_DATABASE_URL", db_url)
    monkeypatch.setenv("PROPUSK_ENV", "test")
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    get_settings.cache_clear()


def test_schools_roster_and_admin_bootstrap(cli, runtime, tmp_path):
    ogrn, oid = f.ogrn(), f.oid()
    r = cli(
        "schools", "add", "--ogrn", ogrn, "--name", "Школа CLI", "--org-oid", oid, "--region", "69"
    )
    assert r.exit_code == 0, r.output
    school_id = r.output.strip()
    assert cli("schools", "add", "--ogrn", ogrn, "--name", "Дубль").exit_code == 1
    listed = json.loads(cli("schools", "list", "--json").output)
    assert any(s["id"] == school_id and s["org_oid"] == oid for s in listed)

    good = tmp_path / "roster.csv"
    good.write_text(
        "role,last_name,first_name,middle_name,birth_date,snils,class\n"
        f"student,{f.name()},Анна,,2012-02-02,{f.snils()},6А\n",
        encoding="utf-8",
    )
    r = cli("roster", "import", ogrn, str(good), "--confirmed-by", "person:director")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["added"] == 1
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "role,last_name,first_name,birth_date\nstudent,,Анна,2012-02-30\n", encoding="utf-8"
    )
    r = cli("roster", "import", ogrn, str(bad))
    assert r.exit_code == 1
    assert "line 2: last_name" in r.output and "line 2: birth_date" in r.output
    assert cli("roster", "import", f.ogrn(), str(good)).exit_code == 1
    sheet = tmp_path / "roster.xlsx"  # a spreadsheet as schools export it, Russian headers
    sheet.write_bytes(xlsx_bytes([["учитель", f.name(), "Олег", "", date(1980, 1, 1), None, None]]))
    r = cli("roster", "import", ogrn, str(sheet))
    assert r.exit_code == 0, r.output
    assert (json.loads(r.output)["added"], json.loads(r.output)["ended"]) == (1, 1)

    r = cli("orgs", "add", "--ogrn", f.ogrn(), "--name", "Оператор", "--org-oid", f.oid())
    assert r.exit_code == 0, r.output

    assert cli("admin", "grant-platform-admin", f.oid()).exit_code == 1
    with session_scope(runtime.sessionmaker) as s:
        person = on_login(s, f.identity())
    r = cli("admin", "grant-platform-admin", person.esia_oid)
    assert r.exit_code == 0, r.output
    with session_scope(runtime.sessionmaker) as s:
        assert role_grants(s, person.id) == [("platform_admin", "*")]
