"""``propusk serve`` as real operating-system processes, for the fault and multi-instance tests
(issue 16): each instance is its own interpreter with its own caches, sequencer thread and
limiter, started exactly as production starts it (the CLI, uvicorn, ``propusk.asgi``), so a
``kill -9`` really loses whatever was only in that process's memory.

The settings reach the process as ``PROPUSK_*`` environment variables; its output goes to a file
under the log scan's directory (``tests/support/logscan.py``: the session checks every line for
personal data and secrets), else under the given ``log_dir`` (read it with
:meth:`ServerProcess.logs`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from tests.support import logscan
from tests.support.servers import free_port

CLI = Path(sys.executable).parent / "propusk"


def process_env(database_url: str, port: int, **overrides: object) -> dict[str, str]:
    """The environment of one instance: the test settings of ``make_settings`` plus overrides
    (``redis_url="..."`` becomes ``PROPUSK_REDIS_URL``)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PROPUSK_") and key != "PROMETHEUS_MULTIPROC_DIR"
    }
    values: dict[str, object] = {
        "env": "test",
        "database_url": database_url,
        "issuer": f"http://127.0.0.1:{port}",
        "upstream": "simulator",
        "demo": True,
        "log_format": "json",
        "db_pool_size": 3,  # beside the suite's own connections (max_connections = 100)
    }
    values.update(overrides)
    for key, value in values.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        env[f"PROPUSK_{key.upper()}"] = str(value)
    return env


class ServerProcess:
    """One ``propusk serve`` process group (the uvicorn supervisor and its workers)."""

    def __init__(
        self,
        database_url: str,
        log_dir: Path,
        *,
        workers: int = 1,
        port: int | None = None,
        name: str = "instance",
        extra_env: dict[str, str] | None = None,
        **overrides: object,
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        # in the log scan's directory when the session scans the logs (tests/support/logscan.py)
        directory = logscan.log_dir() or Path(log_dir)
        self.log_path = directory / f"{name}-{self.port}-{uuid.uuid4().hex[:8]}.log"
        self.env = process_env(database_url, self.port, **overrides)
        self.env.update(extra_env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_start = 0  # where this run's lines begin in the (appended) log

    def start(self, timeout: float = 60) -> ServerProcess:
        """Start the process and wait until ``/healthz`` answers (the app has migrated nothing:
        the database must already be migrated, as in production)."""
        self.launch()
        self.wait_healthy(timeout)
        return self

    def launch(self) -> ServerProcess:
        """Start the process without waiting for it (``start_together`` starts several at once,
        as a deployment does; then ``wait_healthy``)."""
        command = [str(CLI), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--workers", str(self.workers), "--no-access-log"]
        self._log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                command,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill() reaches the workers
            )
        return self

    def wait_healthy(self, timeout: float = 60) -> None:
        """Until ``/healthz`` answers and every worker has started its app: the first worker
        up answers the probe while the others may still be importing."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"propusk serve exited ({self.proc.returncode}):\n{self.logs()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200 and (
                    self.workers == 1 or self._workers_started() >= self.workers
                ):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"propusk serve did not become healthy:\n{self.logs()}")

    def kill(self) -> None:
        """``kill -9`` the whole process group: no shutdown hook, no flush, no goodbye."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """A graceful stop (SIGTERM), then SIGKILL if it hangs."""
        self._signal(signal.SIGTERM, wait=15)

    def _signal(self, sig: int, wait: float = 10) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def worker_pids(self) -> list[int]:
        """The uvicorn worker processes (``--workers N``): the supervisor's children that run
        the app (not multiprocessing's resource tracker). Linux ``/proc``."""
        if self.proc is None:
            return []
        pid = self.proc.pid
        children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        return [c for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]

    def worker_environ(self, pid: int) -> dict[str, str]:
        """The environment a worker was started with (what the supervisor handed it)."""
        raw = Path(f"/proc/{pid}/environ").read_bytes()
        pairs = (item.partition(b"=") for item in raw.split(b"\0") if item)
        return {k.decode(): v.decode(errors="replace") for k, _, v in pairs}

    def _workers_started(self) -> int:
        """Workers of this run that logged uvicorn's "Application startup complete" (at the
        INFO level the test settings keep)."""
        with self.log_path.open("rb") as log:
            log.seek(self._log_start)
            return log.read().count(b"Application startup complete")

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_together(*servers: ServerProcess, timeout: float = 90) -> None:
    """Launch several instances at once (as a deployment does: they race for the first keys,
    the same migrations' tables, the same sequencer) and wait until each is healthy; if one
    does not come up, the others are stopped."""
    for server in servers:
        server.launch()
    try:
        for server in servers:
            server.wait_healthy(timeout)
    except BaseException:
        for server in servers:
            server.stop()
        raise
