"""ESIA federated login through the simulator: flows per second and the share spent in GOST.

Three measurements, loopback only, bounded in time:
1. GOST primitives: gostcrypto sign / verify and Streebog-256 (medians), and the OpenSSL
   gost-engine signer (a subprocess per signature) as the peer of the pure-Python signer.
2. Sequential flows, simulator in-process (a uvicorn thread): per-flow median wall time and the
   share of it spent inside GOST operations (connector and simulator both instrumented).
   One flow = connector signs v2/ac → simulator verifies → login form POST → connector signs
   v3/te → simulator verifies, signs access + id token → connector verifies the access token →
   REST person (contacts), kids, roles.
3. Throughput: simulator in its own process, ``--threads`` concurrent logins from this one.
Flows run once per GOST backend: gostcrypto (reference) and ``fast`` (idp/esia/gostfast.py).

    .venv/bin/python bench/bench_esia.py [--flows 12] [--seconds 15] [--threads 2]

Rows for the summary table: ``bench/results/esia.json`` (the peer of each ``fast`` figure is the
same figure with gostcrypto). The connector alone, without the simulator: ``bench_esia_connector``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from fastapi import FastAPI, Request  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from gostcrypto.gostsignature.gost_34_10_2012 import GOST34102012  # noqa: E402

from bench.common import Results  # noqa: E402
from idp.esia import gost, gostfast  # noqa: E402
from idp.esia.keys import client_paths, simulator_paths  # noqa: E402
from propusk.settings import Settings  # noqa: E402

OID = "1000400024"  # a parent: person + contacts + kids
RESULTS = Results("esia")


class GostClock:
    """Accumulates time spent in gostcrypto sign/verify and Streebog, across threads."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self.lock = threading.Lock()

    def wrap(self, fn: Callable) -> Callable:
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                with self.lock:
                    self.seconds += time.perf_counter() - start
                    self.calls += 1

        return timed

    def install(self) -> None:
        GOST34102012.sign = self.wrap(GOST34102012.sign)
        GOST34102012.verify = self.wrap(GOST34102012.verify)
        gostfast.sign = self.wrap(gostfast.sign)
        gostfast.verify = self.wrap(gostfast.verify)
        gost.streebog256 = self.wrap(gost.streebog256)


CLOCK = GostClock()


def samples_ms(fn: Callable[[], object], n: int) -> tuple[list[float], float]:
    """Wall milliseconds of ``n`` calls, and the thread's CPU milliseconds per call."""
    samples = []
    cpu0 = time.thread_time()
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples, (time.thread_time() - cpu0) * 1000 / n


def median_ms(fn: Callable[[], object], n: int) -> float:
    return statistics.median(samples_ms(fn, n)[0])


def bench_primitives(n: int, key_dir: Path) -> None:
    key = gost.generate_private_key()
    cert = gost.make_self_signed_certificate(key, "bench")
    data = ("PROPUSK" + "openid fullname birthdate gender snils email mobile usr_org" * 2).encode()
    signature = gost.sign(key, data)
    hash_ms = median_ms(lambda: gost.streebog256(data), n)
    print(f"streebog-256 (~120 B)      median {hash_ms:8.2f} ms")
    results, raw = {}, {}
    for backend in gost.BACKENDS:
        gost.sign(key, data, backend)  # warm-up (the fast backend builds its base table)
        signs = samples_ms(lambda b=backend: gost.sign(key, data, b), n)
        verifies = samples_ms(lambda b=backend: gost.verify_gost(cert, data, signature, b), n)
        sign_ms, verify_ms = statistics.median(signs[0]), statistics.median(verifies[0])
        results[backend] = (sign_ms, verify_ms)
        raw[backend] = (signs, verifies)
        print(f"{backend:10} sign          median {sign_ms:8.2f} ms")
        print(f"{backend:10} verify        median {verify_ms:8.2f} ms")
    (ref_sign, ref_verify), (fast_sign, fast_verify) = results["gostcrypto"], results["fast"]
    ratios = f"sign {ref_sign / fast_sign:.1f}x, verify {ref_verify / fast_verify:.1f}x"
    print(f"ratio gostcrypto/fast: {ratios}")
    for i, op in enumerate(("sign", "verify")):
        (fast, fast_cpu), (ref, _) = raw["fast"][i], raw["gostcrypto"][i]
        RESULTS.add(
            f"GOST R 34.10-2012 (256) {op}, fast backend",
            "ms",
            better="lower",
            median=statistics.median(fast),
            latencies_ms=fast,
            peer="gostcrypto (pure Python)",
            peer_median=statistics.median(ref),
            cpu_ms_per_op=fast_cpu,
        )
    if shutil.which("openssl"):
        key_path, cert_path = key_dir / "ossl-key.pem", key_dir / "ossl-cert.pem"
        gost.write_key_pair(key, cert, key_path, cert_path)
        signer = gost.OpenSSLSigner(key_path, cert_path)
        try:
            ossl_ms = median_ms(lambda: signer.sign(data), n)
            print(
                f"openssl signer             median {ossl_ms:8.2f} ms  (subprocess per signature)"
            )
            print(f"ratio gostcrypto sign / openssl signer: {ref_sign / ossl_ms:.2f}")
        except gost.GostError as exc:
            print(f"openssl signer unavailable: {exc}")


def settings_for(sim_url: str) -> Settings:
    return Settings(
        env="test",
        database_url="sqlite://",
        issuer="http://testserver",
        upstream="simulator",
        esia_simulator_url=sim_url,
    )


def connector(settings: Settings, key_dir: Path) -> tuple[TestClient, httpx.Client]:
    from idp.esia.upstream import build_upstream

    upstream = build_upstream(settings, key_dir=key_dir)
    app = FastAPI()

    @app.get("/start")
    def start(request: Request):
        return upstream.start(request, "bench")

    @app.get("/login/esia/callback")
    def callback(request: Request):
        _txn, identity = upstream.finish(request)
        return {"oid": identity.esia_oid, "kids": len(identity.children)}

    return app


def one_flow(app_client: TestClient, browser: httpx.Client) -> None:
    location = app_client.get("/start").headers["location"]
    page = browser.get(location)
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    rid = re.search(r'name="rid" value="([^"]+)"', page.text).group(1)
    back = browser.post(action, data={"rid": rid, "oid": OID}).headers["location"]
    result = app_client.get(back[len("http://testserver") :])
    if result.status_code != 200 or result.json()["kids"] != 1:
        raise RuntimeError(f"flow failed: {result.status_code} {result.text[:200]}")


def serve_simulator(port: int, key_dir: str, backend: str, ready) -> None:
    import uvicorn

    gost.set_backend(backend)

    from idp.esia.simulator.app import create_simulator_app
    from idp.esia.simulator.config import SimulatorConfig

    config = SimulatorConfig.from_settings(settings_for(f"http://127.0.0.1:{port}"), Path(key_dir))
    ready.set()
    uvicorn.run(create_simulator_app(config), host="127.0.0.1", port=port, log_level="warning")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("simulator did not start")


def bench_sequential(flows: int, key_dir: Path, backend: str) -> list[float]:
    import uvicorn

    from idp.esia.simulator.app import create_simulator_app
    from idp.esia.simulator.config import SimulatorConfig

    port = free_port()
    settings = settings_for(f"http://127.0.0.1:{port}")
    config = SimulatorConfig.from_settings(settings, key_dir)
    server = uvicorn.Server(
        uvicorn.Config(create_simulator_app(config), port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_healthy(settings.esia_sim_base)
    gost.set_backend(backend)
    clock = CLOCK
    with (
        TestClient(connector(settings, key_dir), base_url="http://testserver") as app_client,
        httpx.Client(follow_redirects=False, timeout=60) as browser,
    ):
        app_client.follow_redirects = False
        one_flow(app_client, browser)  # warm-up: trusted certificate fetch, imports
        samples = []
        clock.seconds, clock.calls = 0.0, 0
        for _ in range(flows):
            start = time.perf_counter()
            one_flow(app_client, browser)
            samples.append(time.perf_counter() - start)
    server.should_exit = True
    thread.join(timeout=10)
    total = sum(samples)
    med = statistics.median(samples)
    print(
        f"[{backend}] sequential flows: {flows}, median {med * 1000:.0f} ms/flow, "
        f"{1 / med:.2f} flows/s; GOST {clock.calls / flows:.0f} ops = "
        f"{clock.seconds / flows * 1000:.0f} ms/flow, share {clock.seconds / total:.0%}"
    )
    return [x * 1000 for x in samples]


def bench_throughput(seconds: float, threads: int, key_dir: Path, backend: str) -> float:
    port = free_port()
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    gost.set_backend(backend)
    proc = ctx.Process(
        target=serve_simulator, args=(port, str(key_dir), backend, ready), daemon=True
    )
    proc.start()
    try:
        ready.wait(60)
        settings = settings_for(f"http://127.0.0.1:{port}")
        wait_healthy(settings.esia_sim_base)
        app = connector(settings, key_dir)
        done: list[float] = []
        stop = time.monotonic() + seconds

        def worker() -> None:
            with (
                TestClient(app, base_url="http://testserver") as app_client,
                httpx.Client(follow_redirects=False, timeout=60) as browser,
            ):
                app_client.follow_redirects = False
                while time.monotonic() < stop:
                    start = time.perf_counter()
                    one_flow(app_client, browser)
                    done.append(time.perf_counter() - start)

        with TestClient(app, base_url="http://testserver") as warm:
            warm.follow_redirects = False
            with httpx.Client(follow_redirects=False) as browser:
                one_flow(warm, browser)
        began = time.monotonic()
        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        elapsed = time.monotonic() - began
        print(
            f"[{backend}] throughput: simulator in its own process, {threads} client threads, "
            f"{len(done)} flows in {elapsed:.1f} s = {len(done) / elapsed:.2f} flows/s "
            f"(median {statistics.median(done) * 1000:.0f} ms/flow)"
        )
        return len(done) / elapsed
    finally:
        proc.terminate()
        proc.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=15, help="samples per primitive")
    parser.add_argument("--flows", type=int, default=12, help="sequential flows")
    parser.add_argument("--seconds", type=float, default=10, help="throughput duration")
    parser.add_argument("--threads", type=int, default=2, help="concurrent logins")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-esia-") as tmp:
        key_dir = Path(tmp)
        client_paths(settings_for("http://127.0.0.1:1"), key_dir)
        simulator_paths(key_dir)
        print("== GOST primitives ==")
        bench_primitives(args.n, key_dir)
        print("== federated login flows (connector + simulator) ==")
        CLOCK.install()
        flows = {b: bench_sequential(args.flows, key_dir, b) for b in gost.BACKENDS}
        medians = {b: statistics.median(v) for b, v in flows.items()}
        print(f"ratio flow time gostcrypto/fast: {medians['gostcrypto'] / medians['fast']:.1f}x")
        RESULTS.add(
            "federated login with the simulator (both in process), sequential, fast backend",
            "ms",
            better="lower",
            median=medians["fast"],
            latencies_ms=flows["fast"],
            peer="the same with gostcrypto",
            peer_median=medians["gostcrypto"],
        )
        rates = {b: bench_throughput(args.seconds, args.threads, key_dir, b) for b in gost.BACKENDS}
        RESULTS.add(
            f"federated logins/s, simulator in its own process, {args.threads} client threads, "
            "fast backend",
            "logins/s",
            median=rates["fast"],
            peer="the same with gostcrypto (both sides)",
            peer_median=rates["gostcrypto"],
        )
    RESULTS.write()


if __name__ == "__main__":
    main()
