"""What the fault tests (issue 16, ``tests/reliability``) break and how they load the service:
a PostgreSQL cluster of their own that they may stop and start, a TCP peer that accepts and
never answers (a slow ESIA), the people and clients a load needs, and the writers that load a
real ``propusk serve`` over HTTP and keep what it acknowledged.

Never the shared 127.0.0.1:5432 server: ``PgCluster`` is ``initdb`` + ``pg_ctl`` in a temporary
directory on a free port.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from idp import login
from idp.oidc import logins
from idp.upstream import UpstreamIdentity
from propusk.db import session_scope
from tests.support.consent_world import signing_operator, years_ago
from tests.support.servers import free_port, start_live_server

PG_BIN = Path("/usr/local/bin")


def pg_tools_available() -> bool:
    tools = all((PG_BIN / tool).exists() for tool in ("initdb", "pg_ctl"))
    if os.geteuid() != 0:
        return tools
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return False
    return tools and shutil.which("runuser") is not None


def _as_server_user() -> list[str]:
    """PostgreSQL refuses to run as root: as root (containers), run its tools as ``postgres``."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


class PgCluster:
    """A throw-away PostgreSQL cluster (trust auth, loopback, a free port) the test may stop
    (``-m fast`` / ``-m immediate``) and start again. Its directory is a fresh one under the
    system's temporary directory (the server's user must reach it)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="propusk-pg-"))
        if _as_server_user():
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self.data = self.root / "data"
        self.port = free_port()
        self.log = self.root / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> PgCluster:
        initdb = [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"]
        subprocess.run([*_as_server_user(), *initdb], check=True, capture_output=True)
        settings = (
            f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
            "unix_socket_directories = ''\nmax_connections = 100\n"
        )
        append = ["sh", "-c", 'cat >> "$0"', str(self.data / "postgresql.conf")]
        subprocess.run([*_as_server_user(), *append], input=settings.encode(), check=True)
        return self

    def start(self) -> None:
        self._ctl("start", "-w", "-t", "60", "-l", str(self.log))

    def stop(self, mode: str = "fast") -> None:
        self._ctl("stop", "-w", "-t", "60", "-m", mode)

    def accepts(self) -> bool:
        """Whether the server accepts a connection and answers a query."""
        import psycopg

        try:
            with psycopg.connect(
                f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", connect_timeout=2
            ) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def destroy(self) -> None:
        if self.data.exists():
            self._ctl("stop", "-w", "-t", "30", "-m", "immediate", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def _ctl(self, *args: str, check: bool = True) -> None:
        subprocess.run(
            [*_as_server_user(), str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args],
            check=check,
            capture_output=True,
        )


class SilentPeer:
    """A TCP server that accepts connections and never answers (a slow ESIA); ``close()``
    stops listening, after which the port refuses connections (an ESIA that is down)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.accepted = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._held.append(conn)
            self.accepted.set()
            self._serve(conn)

    def _serve(self, conn: socket.socket) -> None:
        """What the peer does with a connection: nothing (read nothing, answer nothing)."""

    def close(self) -> None:
        # wakes the accepting thread (a plain close() leaves the port listening meanwhile)
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        for conn in self._held:
            conn.close()
        self._thread.join(timeout=5)


class DribblingPeer(SilentPeer):
    """A server that reads the request, answers ``200`` with a long JSON body and then sends
    one byte every ``interval`` seconds: every read gets something in time, so per-call
    timeouts never fire (an ESIA that drips)."""

    def __init__(self, interval: float = 0.3) -> None:
        self.interval = interval
        self.stop = threading.Event()
        super().__init__()

    def _serve(self, conn: socket.socket) -> None:
        threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            received = b""
            while b"\r\n\r\n" not in received:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                received += chunk
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            conn.sendall(head + b"Content-Length: 100000\r\n\r\n{")
            while not self.stop.wait(self.interval):
                conn.sendall(b" ")

    def close(self) -> None:
        self.stop.set()
        super().close()


# --- the world a load needs ------------------------------------------------------------------


@dataclass
class LoadWorld:
    """An operator (its client's id and secret, its template) and adults logged in to
    Propusk's pages (their ids and login cookies)."""

    operator_client: tuple[str, str]
    template_id: str
    people: list[tuple[str, str]]  # (person id, login cookie)


def seed_load_world(rt, people: int = 4) -> LoadWorld:
    """Through the real service functions (no HTTP needed): a registered operator bound to a
    client_credentials client with a published simple-form template (ФИО for attestation:
    ``signing_operator``), and ``people`` adults, each with a login session (as after an ESIA
    login)."""
    op = signing_operator(rt, form="any")
    with session_scope(rt.sessionmaker) as s:
        cookies = []
        for n in range(people):
            person = login.on_login(
                s,
                UpstreamIdentity(
                    esia_oid=uuid.uuid4().hex[:12],
                    last_name="Нагрузкина",
                    first_name=f"Анна{n}",
                    birth_date=years_ago(35),
                    trusted=True,
                ),
                settings=rt.settings,
            )
            raw = logins.create_login_session(
                s, person.id, amr=["pwd"], upstream="esia", ttl=3600, confirmed=True
            )
            cookies.append((str(person.id), raw))
        return LoadWorld(op["client"], op["template"], cookies)


def logged_in(url: str, cookie: str) -> httpx.Client:
    """A browser carrying this login cookie (reads only: no CSRF token)."""
    from idp.oidc.principal import SESSION_COOKIE

    return httpx.Client(base_url=url, timeout=30, cookies={SESSION_COOKIE: cookie})


def cabinet_client(url: str, cookie: str) -> httpx.Client:
    """A browser logged in with this login cookie, sending what Propusk's pages send with every
    state change (``Origin``, the session's CSRF token)."""
    browser = logged_in(url, cookie)
    token = browser.get("/api/v1/session").json()["csrf_token"]
    browser.headers.update({"Origin": url, "X-CSRF-Token": token})
    return browser


def operator_token(url: str, world: LoadWorld) -> str:
    r = httpx.post(
        url + "/oauth2/token", auth=world.operator_client, data={"grant_type": "client_credentials"}
    )
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


# --- writers -----------------------------------------------------------------------------------


@dataclass
class Ledger:
    """What the service acknowledged (2xx) and what it was asked without a 2xx answer."""

    acked: list[tuple[str, str]] = field(default_factory=list)  # (kind, id)
    in_flight: int = 0  # sent, no answer: may or may not be written
    refused: int = 0  # answered, not with a 2xx (e.g. 503 while the database is down)
    statuses: dict[int, int] = field(default_factory=dict)
    bodies: list[tuple[int, str, str]] = field(default_factory=list)  # 5xx answers
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ack(self, kind: str, ident: str) -> None:
        with self.lock:
            self.acked.append((kind, ident))

    def answer(self, r: httpx.Response | None, done: tuple[int, ...] = ()) -> bool:
        """Count one answer; True if it acknowledged the write (a 2xx, or a status in ``done``:
        a refused pull is a recorded transfer too)."""
        with self.lock:
            if r is None:
                self.in_flight += 1
                return False
            self.statuses[r.status_code] = self.statuses.get(r.status_code, 0) + 1
            if r.status_code >= 500:
                self.bodies.append((r.status_code, r.headers.get("content-type", ""), r.text))
            if not (200 <= r.status_code < 300 or r.status_code in done):
                self.refused += 1
                return False
            return True

    def of(self, kind: str) -> list[str]:
        return [i for k, i in self.acked if k == kind]


class NotSent(Exception):
    """The load stopped while no connection could be made: nothing was sent."""


class Load:
    """Writers over HTTP until ``stop``: each person's thread has the operator request a
    consent (``consent.requested``, audited at once), signs it (``consent.granted``) and pulls
    the subject's data through the gate (a transfer record and a ``gate.decision`` event in the
    outbox, group-committed by the pull lane); a refused pull (no consent yet) is a write too."""

    def __init__(self, url: str, world: LoadWorld, ledger: Ledger | None = None) -> None:
        self.url = url
        self.world = world
        self.ledger = ledger or Ledger()
        self.stop = threading.Event()
        self.rounds = 0
        self._token = operator_token(url, world)
        self._threads = [
            threading.Thread(target=self._person, args=(pid, cookie), daemon=True)
            for pid, cookie in world.people
        ]

    def start(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def join(self) -> Ledger:
        self.stop.set()
        for t in self._threads:
            t.join(timeout=30)
        return self.ledger

    def wait_rounds(self, n: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.rounds < n and time.monotonic() < deadline:
            time.sleep(0.02)

    def _call(self, http: httpx.Client, method: str, path: str, **kw) -> httpx.Response | None:
        """The answer; None when the request was sent and no answer came (in flight). A
        connection that could not be made carried no request: the writer waits and goes on."""
        while True:
            try:
                return http.request(method, path, **kw)
            except httpx.ConnectError:
                if self.stop.wait(0.05):
                    raise NotSent from None
            except httpx.HTTPError:
                return None

    def _person(self, person_id: str, cookie: str) -> None:
        with contextlib.suppress(NotSent):
            self._writes(person_id, cookie)

    def _writes(self, person_id: str, cookie: str) -> None:
        op = {"Authorization": f"Bearer {self._token}"}
        browser = cabinet_client(self.url, cookie)
        with contextlib.closing(browser), httpx.Client(base_url=self.url, timeout=30) as api:
            pull = f"/api/v1/subjects/{person_id}/data"
            query = {"purpose": "attestation.online", "categories": "person.fullname"}
            while not self.stop.is_set():
                r = self._call(api, "GET", pull, params=query, headers=op)
                refused = r is not None and r.status_code == 403 and '"transfer_id"' in r.text
                if self.ledger.answer(r, done=(403,) if refused else ()):  # refused: recorded
                    self.ledger.ack("transfer", r.json()["transfer_id"])
                body = {"template_id": self.world.template_id, "subject_id": person_id}
                r = self._call(api, "POST", "/api/v1/consent/requests", json=body, headers=op)
                if not self.ledger.answer(r):
                    self.stop.wait(0.05)  # e.g. the database is down: no busy loop
                    continue
                consent_id = r.json()["id"]
                self.ledger.ack("requested", consent_id)
                shown = self._call(browser, "GET", f"/api/v1/consents/{consent_id}/document")
                if shown is None or shown.status_code != 200:
                    self.ledger.answer(shown)
                    continue
                sha = {"document_sha256": shown.json()["sha256"]}
                r = self._call(browser, "POST", f"/api/v1/consents/{consent_id}/approve", json=sha)
                if self.ledger.answer(r):
                    self.ledger.ack("given", consent_id)
                self.rounds += 1


# --- after the fault: what must hold -----------------------------------------------------------


def wait_outbox_drained(rt, timeout: float = 30) -> int:
    """Wait until the audit outbox is empty (a running instance's sequencer drains it); returns
    the rows left (0 unless it timed out)."""
    from audit.service import pending_count

    deadline = time.monotonic() + timeout
    while True:
        with session_scope(rt.sessionmaker) as s:
            left = pending_count(s)
        if left == 0 or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def lost_writes(rt, ledger: Ledger) -> list[tuple[str, str]]:
    """The acknowledged writes the database does not hold as acknowledged."""
    from sqlalchemy import select

    from consent.models import Consent, Transfer

    with session_scope(rt.sessionmaker) as s:
        transfers = set(s.scalars(select(Transfer.id)))
        states = dict(s.execute(select(Consent.id, Consent.state)).all())
    held = {
        "transfer": lambda key: key in transfers,
        "requested": lambda key: key in states,
        "given": lambda key: states.get(key) == "given",
    }
    lost = [(kind, ident) for kind, ident in ledger.acked if not held[kind](uuid.UUID(ident))]
    return lost


# The audit event each kind of consent ledger event is recorded with, in the same transaction.
AUDITED_LEDGER_EVENTS = {
    "requested": "consent.requested",
    "given": "consent.granted",
    "refused": "consent.refused",
    "withdrawn": "consent.withdrawn",
}


def half_written(rt) -> list[str]:
    """What the ledger guarantees and a crash must not break, as a list of violations (empty
    when everything holds):

    * every consent's event chain verifies and ends at its row (``last_seq``, state);
    * each ledger event of a person's or operator's act has its audit event, and each such
      audit event names a consent that has that ledger event (no change without its event, no
      event without its change);
    * every transfer record has its ``gate.decision`` event in the log, and every such event
      names a recorded transfer;
    * nothing is left in the audit outbox (call after ``wait_outbox_drained``).
    """
    import json
    from collections import Counter

    from sqlalchemy import func, select

    from audit.models import AuditEvent, AuditPending
    from consent.ledger import verify_chain
    from consent.models import Consent, ConsentEvent, Transfer

    problems: list[str] = []
    with session_scope(rt.sessionmaker) as s:
        consents = {c.id: c for c in s.scalars(select(Consent))}
        ledger_events = Counter()
        last: dict[uuid.UUID, ConsentEvent] = {}
        for ev in s.scalars(select(ConsentEvent).order_by(ConsentEvent.seq)):
            if ev.type in AUDITED_LEDGER_EVENTS:
                ledger_events[(AUDITED_LEDGER_EVENTS[ev.type], str(ev.consent_id))] += 1
            last[ev.consent_id] = ev
        for cid, consent in consents.items():
            if not verify_chain(s, cid):
                problems.append(f"consent {cid}: its event chain does not verify")
            end = last.get(cid)
            if end is None or end.seq != consent.last_seq or end.to_state != consent.state:
                problems.append(f"consent {cid}: its row and its last event differ")
        audited = Counter()
        gate_events: dict[str, uuid.UUID] = {}
        event_ids = set()
        for row in s.scalars(select(AuditEvent)):
            event_ids.add(row.id)
            body = json.loads(row.leaf)["body"]
            if row.event_type in AUDITED_LEDGER_EVENTS.values():
                audited[(row.event_type, body["consent_id"])] += 1
            elif row.event_type == "gate.decision":
                gate_events[body["transfer_id"]] = row.id
        for key in ledger_events.keys() | audited.keys():
            if ledger_events[key] != audited[key]:
                problems.append(
                    f"{key[0]} of consent {key[1]}: {ledger_events[key]} ledger events, "
                    f"{audited[key]} audit events"
                )
        transfers = {str(t.id): t.audit_event_id for t in s.scalars(select(Transfer))}
        for tid, event_id in transfers.items():
            if event_id not in event_ids or gate_events.get(tid) != event_id:
                problems.append(f"transfer {tid}: its gate.decision event is not in the log")
        for tid in gate_events.keys() - transfers.keys():
            problems.append(f"gate.decision of transfer {tid}: no such transfer recorded")
        left = s.scalar(select(func.count()).select_from(AuditPending))
        if left:
            problems.append(f"{left} events left in the audit outbox")
    return problems


def audit_verify(database_url: str) -> subprocess.CompletedProcess:
    """``propusk audit verify`` as an operator runs it, against this database."""
    from tests.support.processes import CLI, process_env

    env = process_env(database_url, free_port())
    return subprocess.run(
        [str(CLI), "audit", "verify"], env=env, capture_output=True, text=True, timeout=120
    )


def server_with_esia_at(
    database_url: str, peer: SilentPeer, timeout: float = 2.0, deadline: float = 20.0
):
    """A live server (in a thread) whose ESIA is ``peer``, with short ESIA timeouts (1 s to
    connect, ``timeout`` for each read, ``deadline`` for a whole callback): (server, runtime)."""
    return start_live_server(
        database_url,
        upstream="simulator",
        demo=True,
        esia_simulator_url=peer.url,
        esia_connect_timeout=1.0,
        esia_timeout=timeout,
        esia_login_deadline=deadline,
    )
