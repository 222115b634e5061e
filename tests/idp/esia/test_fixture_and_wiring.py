"""The demo fixture's integrity, the simulator mount in the app, and the CLI commands."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from idp.esia.simulator.data import FIXTURE, load_demo
from idp.esia.wiring import simulator_enabled
from propusk.cli import app as cli_app
from propusk.settings import get_settings
from tests.support.servers import free_port
from tests.support.settings import make_settings

ROOT = Path(__file__).resolve().parents[3]
ON = date(2026, 9, 1)  # ages are stated for the 2026/27 school year


def snils_ok(snils: str) -> bool:
    digits = snils.replace("-", "").replace(" ", "")
    body, check = digits[:9], int(digits[9:])
    total = sum(int(d) * (9 - i) for i, d in enumerate(body))
    expected = total if total < 100 else 0 if total in (100, 101) else total % 101 % 100
    return len(digits) == 11 and check == expected


def ogrn_ok(ogrn: str) -> bool:
    return len(ogrn) == 13 and int(ogrn[:12]) % 11 % 10 == int(ogrn[12])


def age(birth: str) -> int:
    d, m, y = (int(x) for x in birth.split("."))
    return ON.year - y - ((ON.month, ON.day) < (m, d))


def test_demo_fixture_has_the_people_the_issue_asks_for():
    data = load_demo()
    people = data.persons
    assert all(snils_ok(p["snils"]) for p in people.values())
    assert len({p["snils"] for p in people.values()}) == len(people)
    assert all(ogrn_ok(o["ogrn"]) for o in data.organizations.values())
    school = next(o for o in data.organizations.values() if o["kind"] == "school")
    operator = next(o for o in data.organizations.values() if o["kind"] == "operator")
    school_roles = [r for roles in data.roles.values() for r in roles if r["org"] == school["oid"]]
    assert sum(r["chief"] for r in school_roles) == 1
    assert sum(r["admin"] and not r["chief"] for r in school_roles) >= 1
    teachers = [p for p in people.values() if p.get("rosterRole") == "teacher"]
    assert len(teachers) >= 3
    students = [p for p in people.values() if p.get("rosterRole") == "student"]
    class_7a = [p for p in students if p.get("class") == "7А"]
    assert len(class_7a) >= 8 and all(10 <= age(p["birthDate"]) <= 17 for p in class_7a)
    assert {age(p["birthDate"]) for p in class_7a} >= {10, 13, 14, 17}  # both age groups
    assert any(age(p["birthDate"]) >= 18 for p in students)
    linked = {kid for kids in data.kids.values() for kid in kids}
    assert {p["oid"] for p in class_7a} <= linked  # every minor has a parent in /kids
    assert any(len(kids) > 1 for kids in data.kids.values())
    operator_staff = [
        r for roles in data.roles.values() for r in roles if r["org"] == operator["oid"]
    ]
    assert len(operator_staff) == 2
    assert any("Администратор платформы" in p["label"] for p in people.values())
    assert any(not p["trusted"] for p in people.values())


def test_roster_csv_matches_the_fixture():
    rows = list(csv.DictReader((FIXTURE.parent / "roster.csv").open(encoding="utf-8")))
    assert list(rows[0]) == [
        "role",
        "last_name",
        "first_name",
        "middle_name",
        "birth_date",
        "snils",
        "class",
    ]
    people = {p["snils"]: p for p in load_demo().persons.values()}
    for row in rows:
        person = people[row["snils"]]
        assert row["role"] == person["rosterRole"] and row["last_name"] == person["lastName"]
        assert date.fromisoformat(row["birth_date"]).strftime("%d.%m.%Y") == person["birthDate"]


def test_simulator_is_mounted_in_demo_mode(client):
    assert client.get("/esia-sim/healthz").json() == {"status": "ok"}
    page = client.get("/esia-sim/")
    assert "Симулятор ЕСИА" in page.text and "PROPUSK" in page.text
    assert client.get("/esia-sim/public/cert.pem").text.startswith("-----BEGIN CERTIFICATE-----")


def test_simulator_is_never_mounted_in_production(db_url):
    assert simulator_enabled(make_settings(db_url))
    assert not simulator_enabled(make_settings(db_url, demo=False, upstream="esia"))
    assert not simulator_enabled(make_settings(db_url, env="production"))


def test_cli_keygen_and_cert_hash(tmp_path):
    runner = CliRunner()
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    made = runner.invoke(cli_app, ["esia", "keygen", "--key", str(key), "--cert", str(cert)])
    assert made.exit_code == 0, made.output
    hashed = runner.invoke(cli_app, ["esia", "cert-hash", str(cert)])
    assert hashed.exit_code == 0 and hashed.output.strip() in made.output
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    signed = runner.invoke(cli_app, ["esia", "sign", "abc", "--key", str(key), "--cert", str(cert)])
    assert signed.exit_code == 0 and len(signed.output.strip()) == 86  # 64 bytes, base64url


def test_cli_info_describes_the_connection(tmp_path, monkeypatch):
    runner = CliRunner()
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    assert (
        runner.invoke(cli_app, ["esia", "keygen", "--key", str(key), "--cert", str(cert)]).exit_code
        == 0
    )
    monkeypatch.setenv("PROPUSK_ESIA_KEY_PATH", str(key))
    monkeypatch.setenv("PROPUSK_ESIA_CERT_PATH", str(cert))
    monkeypatch.setenv("PROPUSK_UPSTREAM", "esia")
    monkeypatch.setenv("PROPUSK_ESIA_ENV", "test")
    monkeypatch.setenv("PROPUSK_ESIA_TRUSTED_CERTS", f'["{cert}"]')
    get_settings.cache_clear()
    try:
        shown = runner.invoke(cli_app, ["esia", "info"])
    finally:
        get_settings.cache_clear()
    assert shown.exit_code == 0, shown.output
    assert "https://esia-portal1.test.gosuslugi.ru" in shown.output
    assert "(valid)" in shown.output and "1 certificate(s)" in shown.output


@pytest.mark.slow
def test_esia_sim_command_serves_alone(tmp_path):
    port = free_port()
    env = {**os.environ, "PROPUSK_ENV": "test", "PYTHONPATH": str(ROOT)}
    code = "from propusk.cli import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "esia-sim", "--port", str(port)], cwd=tmp_path, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("esia-sim did not start")
        cert = httpx.get(f"http://127.0.0.1:{port}/public/cert.pem").text
        assert "BEGIN CERTIFICATE" in cert
        assert (tmp_path / "var" / "esia" / "sim-cert.pem").exists()  # dev material, made once
    finally:
        proc.terminate()
        proc.wait(10)
