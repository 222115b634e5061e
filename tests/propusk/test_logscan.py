"""The log scanner of the test run (tests/support/logscan.py) catches each kind of leak it
promises and passes the lines the service really writes; a finding fails the session."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from propusk.settings import DEV_KEK
from tests.support import logscan
from tests.support.logscan import Scanner, digest, known_people, secret_literals

TOKEN = "q3J9vB0nXh1a_Lk-7pQe2RzT8sWmYc4dUf6gHi5jKoA"  # token_urlsafe(32)'s shape
KID = "Zq1y0m9xR2c3V4b5N6m7L8k9J0h1G2f3D4s5A6p7O8i"  # an RFC 7638 thumbprint: not a secret
JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJwZXJzb246MSJ9.c2lnbmF0dXJlc2lnbmF0dXJl"


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    names, snils = known_people()
    return Scanner(names=names, snils=snils, literals=secret_literals(), tokens={digest(TOKEN)})


PLANTED = {
    "snils": [
        "imported person 890-256-854 41",
        "snils=89025685441 rejected",
        "roster row: СНИЛС 890 256 854 41".replace(" 256 854", "-256-854").replace("890 ", "890-"),
    ],
    "name": [
        "login.success for Григорьева Людмила",
        '{"message": "person Гонкин created"}',
        "roster: Тест0a1b2c3d4e Иван added",
    ],
    "esia-person-id": ["HTTP Request: GET https://esia.example/rs/prns/1000400027?embed=x"],
    "jwt": [f"token issued {JWT}"],
    "authorization-header": ["headers: {'authorization': 'Bearer abcdefghijklmnop'}"],
    "bearer-token": ["retrying with Bearer abcdefghijklmnopqrstuvwxyz012345"],
    "secret:client_secret": ["POST /token client_secret=s3cr3tvalue"],
    "secret:code": ["GET /login/esia/callback?code=AbCdEf123456&state=***"],
    "secret:refresh_token": ['{"refresh_token": "r-123456789"}'],
    "secret:password": ["connect password=hunter22"],
    "url-password": ["engine postgresql+psycopg://propusk:topsecret@db:5432/propusk"],
    "secret-literal": [f"settings kek {DEV_KEK}", "key propusk-development-kek-32bytes! loaded"],
    "generated-token": [f"sid {TOKEN}", f"cookie=x{TOKEN}y", f'"{TOKEN}"'],
}

CLEAN = [
    '{"time": "2026-12-06T00:27:17.123Z", "level": "INFO", "logger": "propusk.x", "message": "ok"}',
    f"signing keys provisioned: {KID}, {KID[::-1]}",
    "GET /login/esia/callback?code=***&state=*** HTTP/1.1 200",
    "client_secret=*** rotated",
    "upstream login failed: ESIA-007014",
    'HTTP Request: GET https://esia.example/rs/prns/***/kids/***?embed=x "HTTP/1.1 200 OK"',
    "batch of 64 pulls took 12345678901 ns",  # 11 digits with a valid checksum, no SNILS context
    "ОГРН 1026901061175, ИНН 6950106172, +7 (495) 000-00-00",
    "rate limits degraded to in-process counting: Redis unavailable (ConnectionError)",
    "request_id 7f0c2a5e-3b7d-4c1e-9a53-2f1d0b6c8e4a status code: 503",
    "Согласие отозвано: версия политики 12",  # Russian words that are no one's surname
    "checkpoint at size 1234567 root 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c1",
]


@pytest.mark.parametrize(("kind", "line"), [(k, line) for k, v in PLANTED.items() for line in v])
def test_each_planted_leak_is_found_by_its_kind(scanner, kind, line):
    kinds = {k for k, _ in scanner.scan_line(line)}
    assert kind in kinds, (line, kinds)


@pytest.mark.parametrize("line", CLEAN)
def test_the_lines_the_service_writes_pass(scanner, line):
    assert scanner.scan_line(line) == []


def test_the_people_come_from_the_demo_and_the_tests():
    names, snils = known_people()
    assert {"Григорьева", "Кузнецова", "Гонкин", "Орлова", "Иванова"} <= names
    assert "89025685441" in snils  # the simulator's roster


def test_a_finding_names_file_line_and_kind_without_the_value(scanner, tmp_path):
    log = tmp_path / "w.log"
    message = {"message": "refresh failed", "exception": f"Traceback\n  token={TOKEN}\n"}
    log.write_text("clean line\n" + json.dumps(message) + "\n", encoding="utf-8")
    findings = scanner.scan_file(log, tmp_path)
    assert [(f.path, f.line, f.kind) for f in findings][:1] == [("w.log", 2, "generated-token")]
    assert all(TOKEN not in str(f) for f in findings)


def test_a_session_whose_logs_leak_fails_with_the_report(tmp_path):
    """A whole pytest session with the plugin: a test that logs a SNILS passes, the session
    fails and the report names the file, the line and the kind."""
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["tests.support.logscan"]\n')
    (tmp_path / "test_leak.py").write_text(
        textwrap.dedent(
            """
            import logging

            def test_logs_a_snils():
                logging.getLogger("propusk.demo").info("person 890-256-854 41 imported")
            """
        )
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"}
    env["PYTHONPATH"] = str(Path(__file__).parents[2])
    env[logscan.ENV] = str(tmp_path / "logs")  # the inner session's files stay in tmp_path
    (tmp_path / "logs").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 1, out
    assert "1 passed" in out
    assert "log scan: personal data or secrets in the logs" in out
    assert "pytest-main.log:1: snils: 890-… (14 chars)" in out
    assert "890-256-854 41" not in out.split("log scan:")[1]


def test_the_tests_own_http_client_lines_are_left_out_the_services_are_kept():
    """A request line logged by httpx for a test's client (a browser's role: its URL carries
    codes by design) is not the service's log; the same line from the service's code is."""
    kept: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            kept.append(record.getMessage())

    handler = Keep()
    handler.addFilter(logscan._NotTheTestsClient())
    client_log = logging.getLogger("httpx")
    client_log.addHandler(handler)
    try:
        client_log.warning("from a test")
        service = logscan.ROOT / "idp" / "esia" / "outbound.py"  # a frame of the service's code
        code = compile("log.warning('from the service')", str(service), "exec")
        exec(code, {"log": client_log})
        logging.getLogger("propusk.oidc").addHandler(handler)
        logging.getLogger("propusk.oidc").warning("the service's own logger")
    finally:
        client_log.removeHandler(handler)
        logging.getLogger("propusk.oidc").removeHandler(handler)
    assert kept == ["from the service", "the service's own logger"]
