"""Federated login: the ESIA connector alone, per core — the simulator's GOST work excluded.

One login is what Propusk does for it (``idp.esia.upstream.EsiaUpstream``), with real keys:
``start`` builds the v2/ac request and GOST-signs its client secret (sealed state cookie);
``finish`` unseals the state, GOST-signs the v3/te code exchange, verifies the GOST signature
of the access token the simulator answered, reads the person (contacts), kids and roles over
REST and builds the identity. The simulator runs in its own process (fast backend), so its
signing and verifying happen outside this one; the "browser" steps between the two connector
calls (the simulator's login page and form) are not timed. Each login's cost is the CPU time
of this thread inside ``start`` and ``finish`` (all synchronous: the HTTP client runs in it):
logins/s per core = logins / CPU seconds, CPU ms per login, and the p99 of the per-login CPU
milliseconds. The peer is the same connector on the old pure-Python backend (gostcrypto),
measured in alternating rounds of the same run; the ratio is fast / gostcrypto.

    .venv/bin/python bench/bench_esia_connector.py [--rounds 3] [--logins 100] [--ref-logins 15]
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from starlette.requests import Request  # noqa: E402

from bench.bench_esia import OID, serve_simulator, settings_for, wait_healthy  # noqa: E402
from bench.common import Results, free_port  # noqa: E402
from bench.summary import percentile  # noqa: E402
from idp.esia import gost, tokens  # noqa: E402
from idp.esia.keys import client_paths, simulator_paths  # noqa: E402
from idp.esia.upstream import EsiaUpstream, build_upstream  # noqa: E402

# The parent persona: person + contacts + one child, so every REST read of a login happens.


def _request(url: str = "/", cookie: str | None = None) -> Request:
    parts = urlsplit(url)
    headers = [(b"cookie", cookie.encode())] if cookie else []
    scope = {
        "type": "http",
        "method": "GET",
        "path": parts.path or "/",
        "query_string": parts.query.encode(),
        "headers": headers,
    }
    return Request(scope)


def one_login(upstream: EsiaUpstream, browser: httpx.Client) -> tuple[float, float]:
    """One login; returns the connector's (CPU ms, wall ms) — the browser's part excluded."""
    cpu0, wall0 = time.thread_time(), time.perf_counter()
    response = upstream.start(_request(), str(uuid.uuid4()))
    cpu, wall = time.thread_time() - cpu0, time.perf_counter() - wall0
    location = response.headers["location"]
    cookie = response.headers["set-cookie"].split(";", 1)[0]
    page = browser.get(location)
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    rid = re.search(r'name="rid" value="([^"]+)"', page.text).group(1)
    back = browser.post(action, data={"rid": rid, "oid": OID}).headers["location"]
    cpu0, wall0 = time.thread_time(), time.perf_counter()
    _txn, identity = upstream.finish(_request(back, cookie))
    cpu += time.thread_time() - cpu0
    wall += time.perf_counter() - wall0
    if identity.esia_oid != OID or len(identity.children) != 1:
        raise RuntimeError(f"unexpected identity {identity.esia_oid}")
    return cpu * 1000, wall * 1000


def gost_cpu_share(upstream: EsiaUpstream, browser: httpx.Client, logins: int) -> float:
    """The share of the connector's CPU spent in GOST sign/verify (fast backend), to tell what
    the rest of a login (HTTP client, JSON, AES-GCM cookie) costs next to it."""
    spent = [0.0]

    def timed(fn):
        def inner(*args, **kwargs):
            start = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[0] += time.thread_time() - start

        return inner

    key_signer = upstream.client.signer
    original_sign = key_signer.sign
    key_signer.sign = timed(original_sign)
    original_verify = tokens.verify_gost
    tokens.verify_gost = timed(original_verify)
    try:
        total = sum(one_login(upstream, browser)[0] for _ in range(logins)) / 1000
    finally:
        key_signer.sign = original_sign
        tokens.verify_gost = original_verify
    return spent[0] / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--logins", type=int, default=100, help="logins per round, fast backend")
    parser.add_argument("--ref-logins", type=int, default=15, help="per round, gostcrypto")
    args = parser.parse_args()
    results = Results("esia_connector")
    counts = {"fast": args.logins, "gostcrypto": args.ref_logins}
    with tempfile.TemporaryDirectory(prefix="bench-esia-connector-") as tmp:
        key_dir = Path(tmp)
        port = free_port()
        settings = settings_for(f"http://127.0.0.1:{port}")
        client_paths(settings, key_dir)
        simulator_paths(key_dir)
        ctx = multiprocessing.get_context("spawn")
        ready = ctx.Event()
        simulator = ctx.Process(
            target=serve_simulator, args=(port, str(key_dir), "fast", ready), daemon=True
        )
        simulator.start()
        try:
            ready.wait(60)
            wait_healthy(settings.esia_sim_base)
            upstream = build_upstream(settings, key_dir=key_dir)
            cpu: dict[str, list[float]] = {b: [] for b in counts}
            rounds: dict[str, list[float]] = {b: [] for b in counts}
            walls: dict[str, list[float]] = {b: [] for b in counts}
            with httpx.Client(follow_redirects=False, timeout=60) as browser:
                for backend in counts:  # warm-up: the trusted certificate, the base tables
                    gost.set_backend(backend)
                    one_login(upstream, browser)
                for r in range(args.rounds):
                    for backend, n in counts.items():
                        gost.set_backend(backend)
                        samples = [one_login(upstream, browser) for _ in range(n)]
                        cpu[backend] += [c for c, _ in samples]
                        walls[backend] += [w for _, w in samples]
                        rounds[backend].append(n / (sum(c for c, _ in samples) / 1000))
                    print(
                        f"round {r + 1}: fast {rounds['fast'][-1]:.0f} logins/s per core, "
                        f"gostcrypto {rounds['gostcrypto'][-1]:.1f} logins/s per core"
                    )
                gost.set_backend("fast")
                share = gost_cpu_share(upstream, browser, min(args.logins, 50))
        finally:
            simulator.terminate()
            simulator.join(10)
    for backend in counts:
        c = cpu[backend]
        print(
            f"[{backend}] connector alone: median {statistics.median(rounds[backend]):.1f} "
            f"logins/s per core; CPU per login median {statistics.median(c):.2f} ms, "
            f"p99 {percentile(c, 99):.2f} ms, mean {statistics.fmean(c):.2f} ms; wall in the "
            f"connector's calls (incl. waiting for the simulator) median "
            f"{statistics.median(walls[backend]):.1f} ms"
        )
    ratio = statistics.median(rounds["fast"]) / statistics.median(rounds["gostcrypto"])
    print(
        f"ratio fast / gostcrypto: {ratio:.1f}x; GOST share of the fast connector's CPU {share:.0%}"
    )
    results.add(
        "federated login, ESIA connector alone (sign v2/ac + v3/te, verify token, REST), fast GOST",
        "logins/s per core",
        rounds=rounds["fast"],
        p99=percentile(cpu["fast"], 99),
        peer="the same connector on gostcrypto (pure Python)",
        peer_rounds=rounds["gostcrypto"],
        cpu_ms_per_op=statistics.fmean(cpu["fast"]),
        note=f"p99 = per-login connector CPU ms; GOST {share:.0%} of the connector's CPU",
    )
    results.write()


if __name__ == "__main__":
    main()
