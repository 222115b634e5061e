"""Shared helpers for benchmarks: wrk runs, servers as subprocesses, medians, CPU time of
processes, and ``Results`` — the one way a benchmark hands its figures to the summary table
(``bench/results/<name>.json``, read by ``bench/summary.py``)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import text

from bench.summary import RESULTS, percentile

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PG_ADMIN = os.environ.get(
    "PROPUSK_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


class WrkRun:
    """One wrk run: requests/s, request count, p50 and p99 latency (ms, from ``--latency``)."""

    def __init__(self, out: str) -> None:
        self.output = out
        self.rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        self.requests = int(re.search(r"(\d+) requests in", out).group(1))
        self.p50 = _wrk_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
        self.p99 = _wrk_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
        self.cpu_ms: float | None = None  # CPU ms per request, when the caller measured it


def _wrk_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def wrk_run(
    url: str, script: str = "", *, connections: int = 16, seconds: int = 10, ok_non2xx=False
) -> WrkRun:
    """wrk -t1 --latency on ``url`` with a Lua ``script`` (may be empty: plain GETs); any non-2xx
    answer fails the run (a benchmark of errors measures nothing)."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: run `make system-deps`")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", path, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(path)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx and not ok_non2xx:
        raise RuntimeError(f"{non2xx.group(1)} error responses from {url}:\n{out}")
    return WrkRun(out)


def post_script(body: str) -> str:
    """A wrk script that POSTs ``body`` as a form."""
    return (
        f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n'
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
    )


def wrk(url: str, body: str, *, connections: int = 16, seconds: int = 10) -> float:
    """POST ``body`` (form) with wrk -t1; return requests/second."""
    return wrk_run(url, post_script(body), connections=connections, seconds=seconds).rate


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def create_pg_database(prefix: str = "propusk_bench") -> tuple[str, callable]:
    """A fresh, migrated PostgreSQL database; returns (url, drop)."""
    from sqlalchemy.engine import make_url

    from propusk.db import make_engine
    from propusk.migrate import upgrade

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    upgrade(url)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


# -- CPU time of processes (Linux /proc) ------------------------------------------------------


def cpu_seconds(pids) -> dict[int, float]:
    """pid → CPU seconds so far: its own user + system time plus that of its children already
    reaped (``/proc/<pid>/stat`` fields 14–17); gone processes are left out."""
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        out[pid] = sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return out


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two readings of a process tree whose parent outlives it: a
    child that exits moves its whole time into its parent's reaped-children count, so what it
    had used before the first reading is taken off again; one that started meanwhile counts
    whole."""
    kept = sum(after[pid] - before[pid] for pid in before.keys() & after.keys())
    started = sum(after[pid] for pid in after.keys() - before.keys())
    exited = sum(before[pid] for pid in before.keys() - after.keys())
    return kept + started - exited


def process_tree(root: int) -> list[int]:
    """``root`` and every descendant (a ``propusk serve --workers N`` supervisor's workers)."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            ppid = int((d / "stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def _listener_pid(port: int) -> int | None:
    """The pid of the process listening on TCP ``port`` of this machine (``/proc/net/tcp*``),
    if it can be seen."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in inodes for fd in (d / "fd").iterdir()):
                return int(d.name)
        except OSError:
            continue
    return None


def postgres_pids() -> list[int]:
    """The processes of the PostgreSQL server the bench uses (its postmaster's tree, found by
    the port of ``PROPUSK_BENCH_POSTGRES_URL``); failing that, every PostgreSQL process of the
    machine (a shared server's other clients then count too)."""
    from sqlalchemy.engine import make_url

    postmaster = _listener_pid(make_url(PG_ADMIN).port or 5432)
    if postmaster is not None:
        return process_tree(postmaster)
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "comm").read_text().strip() == "postgres":
                    pids.append(int(d.name))
            except OSError:
                continue
    return pids


class TreeCPU:
    """CPU seconds of process trees between ``start()`` and ``stop()``."""

    def __init__(self, *roots: int) -> None:
        self.roots = roots
        self.before: dict[int, float] = {}
        self.seconds = 0.0

    def _read(self) -> dict[int, float]:
        return cpu_seconds(pid for root in self.roots for pid in process_tree(root))

    def start(self) -> TreeCPU:
        self.before = self._read()
        return self

    def stop(self) -> float:
        self.seconds = cpu_delta(self.before, self._read())
        return self.seconds


# -- results for the summary table ---------------------------------------------------------------


def _commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


class Results:
    """The rows one benchmark contributes to the summary table, written to
    ``bench/results/<name>.json`` (see ``bench/summary.py`` for the fields). Conditions —
    CPUs, load average before and after, duration, commit — are recorded with them: the
    machine is often shared, and ratios measured in the same run still hold when it is."""

    def __init__(self, name: str, note: str | None = None) -> None:
        self.name = name
        self.rows: list[dict] = []
        self.note = note
        self.started = time.time()
        self.load_before = os.getloadavg()[0]

    def add(
        self,
        figure: str,
        unit: str,
        *,
        better: str = "higher",
        rounds: list[float] | None = None,
        median: float | None = None,
        latencies_ms: list[float] | None = None,
        p99: float | None = None,
        peer: str | None = None,
        peer_rounds: list[float] | None = None,
        peer_median: float | None = None,
        cpu_ms_per_op: float | None = None,
        note: str | None = None,
    ) -> None:
        """One figure. Large latency lists are reduced to their p99 here (same percentile as
        the summary's); small ones are kept so the summary computes it."""
        if latencies_ms is not None and len(latencies_ms) > 2000:
            p99, latencies_ms = percentile(latencies_ms, 99), None
        row = {
            "figure": figure,
            "unit": unit,
            "better": better,
            "rounds": rounds,
            "median": median,
            "latencies_ms": latencies_ms,
            "p99": p99,
            "peer": peer,
            "peer_rounds": peer_rounds,
            "peer_median": peer_median,
            "cpu_ms_per_op": cpu_ms_per_op,
            "note": note,
        }
        self.rows.append({k: v for k, v in row.items() if v is not None})

    def latency(self, figure: str, seconds: list[float], **extra) -> None:
        """A row of per-operation latencies measured in seconds: median and p99 in ms."""
        samples = [x * 1e3 for x in seconds]
        median_ms = statistics.median(samples)
        self.add(figure, "ms", better="lower", median=median_ms, latencies_ms=samples, **extra)

    def write(self) -> Path:
        RESULTS.mkdir(parents=True, exist_ok=True)
        conditions = {
            "cpus": os.cpu_count(),
            "load_before": self.load_before,
            "load_after": os.getloadavg()[0],
            "seconds": time.time() - self.started,
            "started": dt.datetime.fromtimestamp(self.started, dt.UTC).strftime("%Y-%m-%d %H:%M"),
            "commit": _commit(),
            "python": sys.version.split()[0],
        }
        if self.note:
            conditions["note"] = self.note
        path = RESULTS / f"{self.name}.json"
        body = {"name": self.name, "conditions": conditions, "rows": self.rows}
        path.write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n")
        return path
