"""The log scan of a test run (issue 16): nothing personal or secret may reach a log line.

For the whole session every log record the code emits at INFO and above (the level production
runs at: ``propusk.observability.install_json_logs``) is written, through Propusk's own
``JsonFormatter``, to one file per xdist worker under a session directory; the ``propusk serve``
processes of ``tests/support/processes.py`` write their output there too (:func:`log_dir`).
Left out: the request lines httpx logs for the tests' own clients (a browser's or a relying
party's role — their URLs carry codes and tokens by design, and production never logs them); the
service's own outbound requests stay in (:class:`_NotTheTestsClient`).
Every value ``secrets.token_urlsafe`` makes with 32 or more bytes — client secrets, refresh
tokens, authorization codes, login and session ids, PKCE verifiers — is remembered by its hash.
When the session ends (the controller, after every worker) the files are scanned for SNILS, the
names of the demo and test people, a person's ESIA id in an ESIA REST path, JWTs,
``Authorization`` headers, secrets and codes written as ``name=value``, passwords in URLs, the
KEK and the session secret, and any remembered token.
A finding fails the session, reported by file, line and kind with the value masked.

Why at the end of the whole run, not per test: a leak is a property of what the code logs on
any path, and the paths are the whole suite; the scan costs one pass over the files.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from propusk.observability import JsonFormatter
from propusk.settings import DEV_KEK, DEV_SESSION_SECRET
from propusk.validators import snils_valid

ENV = "PROPUSK_TEST_LOGSCAN_DIR"
KEEP_ENV = "PROPUSK_TEST_LOGSCAN_KEEP"  # set: keep the files of a clean session too (to read them)
ROOT = Path(__file__).resolve().parents[2]
TOKEN_MIN_BYTES = 32  # token_urlsafe(32): secrets, refresh tokens, codes, login/session ids
_DIGEST = 16  # bytes of SHA-256 kept per remembered token


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    kind: str
    excerpt: str  # the value masked: its first characters and its length

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}: {self.excerpt}"


def mask(value: str) -> str:
    """Enough to find the value in the file, never the value."""
    return f"{value[:4]}… ({len(value)} chars)"


def digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()[:_DIGEST]


# --- what a leak looks like -------------------------------------------------------------------

SNILS_FORMATTED = re.compile(r"(?<![\d-])\d{3}-\d{3}-\d{3}[ -]\d{2}(?!\d)")
SNILS_BARE = re.compile(r"(?<!\d)\d{11}(?!\d)")
SNILS_CONTEXT = re.compile(r"snils|снилс", re.IGNORECASE)
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
AUTH_HEADER = re.compile(
    r"(?i)\b(?:authorization|proxy-authorization)\b[\"']?\s*[:=,]\s*[\"']?"
    r"((?:bearer|basic|dpop|gost)\s+[^\s\"',]{6,})"
)
BEARER = re.compile(r"(?i)\bbearer\s+([A-Za-z0-9._~+/=-]{16,})")
SECRET_PARAM = re.compile(
    r"(?i)\b(access_token|refresh_token|id_token|client_secret|client_assertion|code_verifier|"
    r"password|passwd|pwd|secret|api_key|session_secret|kek|code)"
    r"[\"']?\s*(?:=|:)\s*[\"']?([^\s\"'&,;}\]]{6,})"
)
URL_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@\"']+:([^@\s/\"']+)@")
# ESIA REST paths name a person: /rs/prns/{oid}, /rs/prns/{oid}/kids/{oid}
ESIA_PERSON = re.compile(r"/(?:prns|kids)/(\d{5,})")
# the surnames tests/idp/factories.py makes up: "Тест" + ten hex digits
MADE_UP_NAME = re.compile(r"(?<!\w)Тест[0-9a-f]{10}(?!\w)")
CANDIDATE = re.compile(r"[A-Za-z0-9_-]{43,}")  # token_urlsafe(32) and longer
_MASKED = re.compile(r"^\*+|^<redacted>|^\[redacted\]|^%[sdr]", re.IGNORECASE)


class Scanner:
    """Finds the kinds of leak above in lines of text.

    ``names``: the surnames of the demo and test people (whole words, case kept);
    ``snils``: known SNILS as 11 digits (found bare without any context);
    ``literals``: exact secrets (the KEK, the session secret);
    ``tokens``: digests of generated tokens (:func:`digest`)."""

    def __init__(
        self,
        names: Iterable[str] = (),
        snils: Iterable[str] = (),
        literals: Iterable[str] = (),
        tokens: Iterable[bytes] = (),
    ) -> None:
        words = sorted({n for n in names if len(n) >= 4}, key=len, reverse=True)
        alternatives = "|".join(map(re.escape, words))
        self.names = re.compile(rf"(?<!\w)({alternatives})(?!\w)") if words else None
        self.snils = set(snils)
        self.literals = [s for s in set(literals) if len(s) >= 8]
        self.tokens = set(tokens)

    def scan_line(self, line: str) -> list[tuple[str, str]]:
        """(kind, value) for each leak in one line."""
        found: list[tuple[str, str]] = []
        for m in SNILS_FORMATTED.finditer(line):
            found.append(("snils", m.group(0)))
        context = SNILS_CONTEXT.search(line) is not None
        for m in SNILS_BARE.finditer(line):
            value = m.group(0)
            if value in self.snils or (context and snils_valid(value)):
                found.append(("snils", value))
        if self.names is not None:
            found += [("name", m.group(1)) for m in self.names.finditer(line)]
        found += [("name", m.group(0)) for m in MADE_UP_NAME.finditer(line)]
        found += [("esia-person-id", m.group(1)) for m in ESIA_PERSON.finditer(line)]
        found += [("jwt", m.group(0)) for m in JWT.finditer(line)]
        headers = [m.group(1) for m in AUTH_HEADER.finditer(line)]
        found += [("authorization-header", v) for v in headers]
        found += [
            ("bearer-token", m.group(1))
            for m in BEARER.finditer(line)
            if not any(m.group(1) in h for h in headers)
        ]
        for m in SECRET_PARAM.finditer(line):
            if not _MASKED.match(m.group(2)):
                found.append((f"secret:{m.group(1).lower()}", m.group(2)))
        for m in URL_PASSWORD.finditer(line):
            if not _MASKED.match(m.group(1)):
                found.append(("url-password", m.group(1)))
        found += [("secret-literal", s) for s in self.literals if s in line]
        if self.tokens:
            for m in CANDIDATE.finditer(line):
                run = m.group(0)
                # a token may be glued to other word characters: its own span, then windows
                for value in (run, *_windows(run)):
                    if digest(value) in self.tokens:
                        found.append(("generated-token", value))
                        break
        return found

    def scan_file(self, path: Path, root: Path | None = None) -> list[Finding]:
        name = str(path.relative_to(root)) if root else str(path)
        out = []
        with path.open(encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                for kind, value in self.scan_line(_unescape(line)):
                    out.append(Finding(name, number, kind, mask(value)))
        return out


def _windows(run: str) -> Iterable[str]:
    for size in (43, 64, 86):
        for start in range(len(run) - size + 1):
            yield run[start : start + size]


def _unescape(line: str) -> str:
    """A JSON log line's message and traceback as text (escaped quotes and newlines would hide
    ``"code": "…"`` from the patterns); other lines as they are."""
    stripped = line.strip()
    if stripped.startswith("{"):
        try:
            entry = json.loads(stripped)
        except ValueError:
            return line
        if isinstance(entry, dict):
            return " | ".join(str(v) for v in entry.values())
    return line


# --- who the demo and test people are ---------------------------------------------------------

_LITERAL_NAME = re.compile(
    r"(?:last_name|lastName|surname|фамилия)[\"']?\s*[=:]\s*[\"']([А-ЯЁ][а-яё-]+)[\"']"
)
_TUPLE_NAME = re.compile(r"\(\s*\"\d{10}\",\s*\"([А-ЯЁ][а-яё-]+)\",\s*\"([А-ЯЁ][а-яё]+)\"")
_PAIR_DEFAULT = re.compile(r"name: tuple\[str, str\] = \(\"([А-ЯЁ][а-яё-]+)\"")
_SNILS_LITERAL = re.compile(r"(?<![\d-])(\d{3}-\d{3}-\d{3}[ -]\d{2}|\d{11})(?!\d)")


def known_people(root: Path = ROOT) -> tuple[set[str], set[str]]:
    """(surnames, SNILS as 11 digits) of the people the demo and the tests create: the ESIA
    simulator's fixtures (demo people, their children, the roster), the demo seeds and the
    names written in the tests."""
    names: set[str] = set()
    snils: set[str] = set()
    fixtures = root / "idp" / "esia" / "simulator" / "fixtures"
    for path in fixtures.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        for group in ("persons", "kids"):
            for person in data.get(group, []) if isinstance(data, dict) else []:
                if person.get("lastName"):
                    names.add(person["lastName"])
                if person.get("snils"):
                    snils.add(re.sub(r"\D", "", person["snils"]))
    for path in fixtures.glob("*.csv"):
        for row in path.read_text(encoding="utf-8").splitlines()[1:]:
            cells = row.split(",")
            if len(cells) > 5:
                names.add(cells[1])
                snils.add(re.sub(r"\D", "", cells[5]))
    sources = [*root.glob("propusk/demo*.py"), *root.glob("idp/demo*.py")]
    sources += list((root / "tests").rglob("*.py"))
    for path in sources:
        text = path.read_text(encoding="utf-8")
        names.update(_LITERAL_NAME.findall(text))
        names.update(m[0] for m in _TUPLE_NAME.findall(text))
        names.update(_PAIR_DEFAULT.findall(text))
        if "snils" in text.lower():
            for value in _SNILS_LITERAL.findall(text):
                digits = re.sub(r"\D", "", value)
                if snils_valid(digits):
                    snils.add(digits)
    snils.discard("")
    return {n for n in names if n}, snils


def secret_literals() -> set[str]:
    """The KEK (as configured and as raw bytes) and the session secret of the development
    defaults and of this environment."""
    out = {DEV_KEK, DEV_SESSION_SECRET}
    for key in ("PROPUSK_KEK", "PROPUSK_SESSION_SECRET"):
        if os.environ.get(key):
            out.add(os.environ[key])
    for kek in list(out):
        try:
            raw = base64.urlsafe_b64decode(kek + "=" * (-len(kek) % 4))
        except ValueError:
            continue
        if raw.isascii() and raw.decode().isprintable():
            out.add(raw.decode())
    return out


# --- the session: files, tokens, the verdict --------------------------------------------------


def log_dir() -> Path | None:
    """Where processes started by the tests write their logs for the scan (None: no scan)."""
    value = os.environ.get(ENV)
    return Path(value) if value else None


def worker_name() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


class _ScanFormatter(JsonFormatter):
    """Propusk's JSON lines plus the thread, to tell the code under test from a test's client."""

    def format(self, record: logging.LogRecord) -> str:
        entry = json.loads(super().format(record))
        entry["thread"] = record.threadName
        return json.dumps(entry, ensure_ascii=False)


HTTP_CLIENT_LOGGERS = ("httpx", "httpcore")
_TESTS = str(ROOT / "tests") + os.sep


class _NotTheTestsClient(logging.Filter):
    """Leaves out the request lines of the tests' own HTTP clients (TestClient, httpx against a
    live server: a browser's or a relying party's role, whose URLs carry codes and tokens by
    design, and which production never logs); keeps those of the service's own outbound calls
    (ESIA, a client's ``jwks_uri``). Told apart by the first frame of this repository on the
    logging call's stack: a test module, or the service's code."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(HTTP_CLIENT_LOGGERS):
            return True
        frame = sys._getframe(1)
        while frame is not None:
            name = frame.f_code.co_filename
            if name.startswith(str(ROOT)) and f"{os.sep}.venv{os.sep}" not in name:
                return not name.startswith(_TESTS)
            frame = frame.f_back
        return True


class _TokenRecorder:
    """Remembers the digest of every long ``secrets.token_urlsafe`` value of this process."""

    def __init__(self) -> None:
        self.digests: set[bytes] = set()
        self.lock = threading.Lock()
        self.original = secrets.token_urlsafe

    def __call__(self, nbytes: int | None = None) -> str:
        value = self.original(nbytes)
        if (nbytes or 32) >= TOKEN_MIN_BYTES:
            with self.lock:
                self.digests.add(digest(value))
        return value


_state: dict[str, object] = {}


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and not os.environ.get(ENV):
        os.environ[ENV] = tempfile.mkdtemp(prefix="propusk-logscan-")  # workers inherit it
        _state["owner"] = True
    directory = log_dir()
    assert directory is not None
    handler = logging.FileHandler(directory / f"pytest-{worker_name()}.log", encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(_ScanFormatter())
    handler.addFilter(_NotTheTestsClient())
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)  # what production emits (install_json_logs)
    recorder = _TokenRecorder()
    secrets.token_urlsafe = recorder
    _state.update(handler=handler, recorder=recorder)


def _reattach() -> None:
    """``install_json_logs`` (an app built in-process from ``propusk.asgi``) replaces the root's
    handlers: put ours back."""
    handler = _state.get("handler")
    root = logging.getLogger()
    if handler is not None and handler not in root.handlers:
        root.addHandler(handler)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    _reattach()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    directory = log_dir()
    recorder = _state.get("recorder")
    if directory is None or not isinstance(recorder, _TokenRecorder):
        return
    secrets.token_urlsafe = recorder.original
    handler = _state.pop("handler", None)
    if isinstance(handler, logging.Handler):
        logging.getLogger().removeHandler(handler)
        handler.close()
    with recorder.lock:
        (directory / f"tokens-{worker_name()}.bin").write_bytes(b"".join(recorder.digests))
    if hasattr(session.config, "workerinput"):
        return  # the controller scans once every worker is done
    findings = scan_directory(directory)
    _state["findings"] = findings
    if findings:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif _state.get("owner") and not os.environ.get(KEEP_ENV):
        shutil.rmtree(directory, ignore_errors=True)


def scan_directory(directory: Path) -> list[Finding]:
    tokens: set[bytes] = set()
    for path in directory.glob("tokens-*.bin"):
        data = path.read_bytes()
        tokens.update(data[i : i + _DIGEST] for i in range(0, len(data), _DIGEST))
    names, snils = known_people()
    scanner = Scanner(names=names, snils=snils, literals=secret_literals(), tokens=tokens)
    findings: list[Finding] = []
    for path in sorted(directory.rglob("*.log")):
        findings += scanner.scan_file(path, directory)
    return findings


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    findings = _state.get("findings")
    if findings == [] and os.environ.get(KEEP_ENV):
        terminalreporter.line(f"log scan: clean; log files kept in {log_dir()}")
    if not findings:
        return
    terminalreporter.section("log scan: personal data or secrets in the logs", red=True)
    for finding in findings[:200]:
        terminalreporter.line(str(finding))
    if len(findings) > 200:
        terminalreporter.line(f"… and {len(findings) - 200} more")
    terminalreporter.line(f"log files kept in {log_dir()}")
