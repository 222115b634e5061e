"""``propusk policy ...`` against the configured database."""

from __future__ import annotations

import uuid

import pytest
from typer.testing import CliRunner

from propusk.cli import app as cli
from propusk.settings import get_settings


@pytest.fixture
def run(db_url, monkeypatch):
    monkeypatch.setenv("PROPUSK_DATABASE_URL", db_url)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli, ["policy", *args])
    get_settings.cache_clear()


def test_explain_add_grant_remove(run) -> None:
    subject = f"person:{uuid.uuid4()}"
    school = f"school:{uuid.uuid4()}"
    obj = f"test.cli{uuid.uuid4().hex[:6]}"

    denied = run("explain", subject, school, "roster", "import")
    assert denied.exit_code == 1
    assert "DENY roster:import" in denied.output and "no rule matched" in denied.output

    assert run("grant", subject, "school_admin", school).exit_code == 0
    allowed = run("explain", subject, school, "roster", "import")
    assert allowed.exit_code == 0, allowed.output
    assert "ALLOW roster:import" in allowed.output
    assert "p, school_admin, school:*, roster, import, any (file) via link" in allowed.output

    added = run("add", "school_admin", "school:*", obj, "read")
    assert added.exit_code == 0, added.output
    rule_id = added.output.strip().rsplit(" ", 1)[1]
    assert f"# {rule_id}" in run("list").output
    assert "(db:" in run("explain", subject, school, obj, "read").output
    assert run("add", "school_admin", "school:*", obj, "read").exit_code == 2  # duplicate
    assert run("remove", rule_id).exit_code == 0
    assert run("explain", subject, school, obj, "read").exit_code == 1
    assert "rule.removed" in run("history", "--limit", "5").output


def test_bad_input_is_a_clear_error(run) -> None:
    result = run("explain", "nobody", "*", "roster", "read")
    assert result.exit_code == 2
    assert "subject must be" in result.output
    assert run("add", "teacher", "planet:*", "roster", "read").exit_code == 2
    assert run("remove", "not-a-uuid").exit_code == 2
