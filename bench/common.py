"""Shared helpers for benchmarks: wrk runs, servers as subprocesses, medians."""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import text

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


def wrk(url: str, body: str, *, connections: int = 16, seconds: int = 10) -> float:
    """POST ``body`` (form) with wrk -t1; return requests/second."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: run `make system-deps`")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(
            f'wrk.method = "POST"\nwrk.body = {body!r}\n'.replace("'", '"')
            + 'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        )
        script = f.name
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{non2xx.group(1)} error responses from {url}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


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
