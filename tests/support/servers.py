"""Real uvicorn servers in threads, for end-to-end tests over HTTP: a free port, a live server,
an app served with its own URL as issuer, and the demo stack (ESIA simulator and its people)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx

from propusk.runtime import Runtime, build_runtime
from tests.support.settings import make_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """A real uvicorn server in a thread, for end-to-end tests over HTTP."""

    def __init__(self, app, port: int) -> None:
        import uvicorn

        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("live server did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_live_server(database_url: str, **overrides) -> tuple[LiveServer, Runtime]:
    """Build an app whose issuer is its own real URL and serve it."""
    from propusk.app import create_app

    port = free_port()
    settings = make_settings(database_url, issuer=f"http://127.0.0.1:{port}", **overrides)
    rt = build_runtime(settings)
    server = LiveServer(create_app(runtime=rt), port).start()
    return server, rt


def demo_server(database_url: str) -> Iterator[tuple[str, Runtime]]:
    """A live server with the ESIA simulator mounted and its demo people seeded: (url, runtime)."""
    from idp import demo
    from propusk.db import session_scope

    server, rt = start_live_server(database_url, upstream="simulator", demo=True)
    with session_scope(rt.sessionmaker) as s:
        demo.seed(s, rt.settings)
    try:
        yield server.url, rt
    finally:
        server.stop()
        rt.dispose()
