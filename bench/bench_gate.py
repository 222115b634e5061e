"""Transfer gate on PostgreSQL: decisions per second and p50/p99 latency, against an ungated
read of the same vault data in the same run.

Seeds a fresh database with ``bench/seed_gate.py`` (COPY), then, in one process and one
thread, with real transactions:
- ``decide``: the gate decision alone (locking read of the consent rows, rolled back);
- ``gated pull``: what ``GET /api/v1/subjects/{id}/data`` does — decision + transfer record +
  audit event + vault read of the allowed categories, committed;
- ``ungated read``: the same vault read with no gate, no record (the peer).
Then the same gated pull and ungated read over HTTP (uvicorn in this process, wrk, 8
connections) — the per-process figure for the ≥1,500 gated reads/s target.

    .venv/bin/python bench/bench_gate.py                       # 20k subjects, 200k consents
    .venv/bin/python bench/bench_gate.py --subjects 1000000    # the full size: 10M consents
    BENCH_GATE_SUBJECTS=1000000 make bench BENCH=gate          # same, through make bench
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import create_pg_database, free_port, wait_http
from bench.seed_gate import seed

CATEGORIES = ["person.fullname", "education.grades"]


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def _report(name: str, lat: list[float], elapsed: float) -> float:
    rate = len(lat) / elapsed
    print(
        f"  {name:<14} n={len(lat):>6}  {rate:>8.0f}/s  p50={statistics.median(lat) * 1e3:6.2f} ms"
        f"  p99={_pct(lat, 99) * 1e3:6.2f} ms"
    )
    return rate


def _timed(n: int, fn) -> tuple[list[float], float]:
    lat = []
    start = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        lat.append(time.perf_counter() - t)
    return lat, time.perf_counter() - start


THREADS = 4


def _threaded(n: int, fn) -> tuple[list[float], float]:
    """``fn(0..n-1)`` spread over ``THREADS`` threads; per-call latencies and the elapsed time."""
    lat: list[float] = []
    lock = threading.Lock()

    def work(k: int) -> None:
        mine = []
        for i in range(k, n, THREADS):
            t = time.perf_counter()
            fn(i)
            mine.append(time.perf_counter() - t)
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(THREADS)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return lat, time.perf_counter() - start


def in_process(rt, info: dict, n: int) -> tuple[float, float]:
    from consent import flows, gate, vault
    from consent import repository as repo
    from propusk.db import session_scope, utcnow

    rnd = random.Random(1)
    picks = [rnd.choice(info["sample"]) for _ in range(n)]
    with session_scope(rt.sessionmaker) as s:
        operators = {str(o): repo.get_organization(s, o) for o in info["operators"]}
        s.expunge_all()

    def decide(i: int) -> None:
        subj, op, purpose = picks[i]
        with rt.sessionmaker() as s:
            d = gate.decide(
                s,
                operator_id=uuid.UUID(op),
                subject_id=uuid.UUID(subj),
                purpose=purpose,
                categories=CATEGORIES,
                now=utcnow(),
            )
            s.rollback()
        assert d.allowed, d.refused

    def pull(i: int) -> None:
        subj, op, purpose = picks[i]
        with session_scope(rt.sessionmaker) as s:
            out = flows.pull(
                s,
                rt.settings,
                operators[op],
                subject_id=uuid.UUID(subj),
                purpose=purpose,
                categories=CATEGORIES,
                actor="client:bench",
                now=utcnow(),
            )
        assert out.data, out.decision.refused

    def ungated(i: int) -> None:
        subj, _, _ = picks[i]
        with session_scope(rt.sessionmaker) as s:
            data = vault.read(s, rt.settings, uuid.UUID(subj), CATEGORIES)
        assert data

    from audit import service as audit
    from audit.sequencer import Sequencer, run_once

    sequencer = Sequencer(rt.sessionmaker)  # as in the app: the outbox is drained meanwhile
    sequencer.start()
    try:
        for fn in (decide, pull, ungated):  # warm up caches and the pool
            _timed(min(200, n), fn)
        print("in-process, one thread (audit sequencer thread running):")
        _report("decide", *_timed(n, decide))
        gated = _report("gated pull", *_timed(n, pull))
        plain = _report("ungated read", *_timed(n, ungated))
        print(f"in-process, {THREADS} threads (gated pulls no longer queue on the audit lock):")
        gated_mt = _report("gated pull", *_threaded(n, pull))
        plain_mt = _report("ungated read", *_threaded(n, ungated))
        print(f"  ratio gated/ungated throughput ({THREADS} threads): {gated_mt / plain_mt:.2f}")
    finally:
        sequencer.stop()
    run_once(rt.sessionmaker)
    with session_scope(rt.sessionmaker) as s:
        print(f"  audit log: {audit.tree_size(s):,} events, {audit.pending_count(s)} pending")
    print(f"  ratio gated/ungated throughput: {gated / plain:.2f}")
    return gated, plain


def _serve(rt, info: dict):
    """Uvicorn in a thread, with a bench principal resolver (operator clients, persons)."""
    import uvicorn

    from propusk.app import create_app
    from propusk.security import ANONYMOUS, Principal, RoleGrant

    app = create_app(runtime=rt)

    def resolve(request, session):
        token = request.headers.get("authorization", "")[7:]
        kind, _, ident = token.partition("-")
        if kind == "op":
            org = uuid.UUID(ident)
            return Principal(
                kind="client",
                subject=f"client:bench-{ident[:8]}",
                client_id=f"bench-{ident[:8]}",
                organization_id=org,
                roles=(RoleGrant("operator", f"org:{org}"),),
            )
        if kind == "p":
            return Principal(
                kind="person",
                subject=f"person:{ident}",
                person_id=uuid.UUID(ident),
                roles=(RoleGrant("student", "*"),),
            )
        return ANONYMOUS

    app.state.principal_resolver = resolve
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_http(f"http://127.0.0.1:{port}/healthz")
    return server, thread, port


def _wrk(port: int, lines: list[str], seconds: int) -> tuple[float, str, str]:
    """wrk over a list of 'path<TAB>token' lines; returns (req/s, p50, p99)."""
    import re

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "paths.txt"
        data.write_text("\n".join(lines) + "\n")
        script = Path(tmp) / "s.lua"
        script.write_text(LUA.replace("DATA", str(data)))
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                "-c8",
                f"-d{seconds}s",
                "--latency",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise RuntimeError("error responses:\n" + out)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)
    return rate, p50, p99


LUA = """
local reqs = {}
for line in io.lines("DATA") do
  local p, t = line:match("([^\\t]+)\\t([^\\t]+)")
  reqs[#reqs + 1] = wrk.format("GET", p, {["Authorization"] = "Bearer " .. t})
end
local i = 0
request = function()
  i = i + 1
  if i > #reqs then i = 1 end
  return reqs[i]
end
"""


def over_http(rt, info: dict, seconds: int) -> None:
    if not shutil.which("wrk"):
        print("wrk missing: HTTP part skipped (make system-deps)")
        return
    server, thread, port = _serve(rt, info)
    rnd = random.Random(2)
    picks = [rnd.choice(info["sample"]) for _ in range(20_000)]
    cats = ",".join(CATEGORIES)
    gated = [
        f"/api/v1/subjects/{s}/data?purpose={p}&categories={cats}\top-{o}" for s, o, p in picks
    ]
    # the peer: the participant's own read of the same vault rows, with no gate and no record
    plain = [f"/api/v1/me/data\tp-{s}" for s, _, _ in picks]
    try:
        _wrk(port, gated[:2000], 2)  # warm up
        _wrk(port, plain[:2000], 2)
        g = _wrk(port, gated, seconds)
        u = _wrk(port, plain, seconds)
        print(f"HTTP (uvicorn, 1 process, wrk -t1 -c8 {seconds}s):")
        print(f"  gated pull     {g[0]:8.0f} req/s  p50={g[1]}  p99={g[2]}")
        print(f"  ungated read   {u[0]:8.0f} req/s  p50={u[1]}  p99={u[2]}")
        print(f"  ratio gated/ungated throughput: {g[0] / u[0]:.2f}")
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--subjects", type=int, default=int(os.environ.get("BENCH_GATE_SUBJECTS", "20000"))
    )
    ap.add_argument("--per-subject", type=int, default=10)
    ap.add_argument("-n", type=int, default=int(os.environ.get("BENCH_GATE_N", "3000")))
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = ap.parse_args()

    from propusk.runtime import build_runtime
    from propusk.settings import Settings

    url, drop = create_pg_database("propusk_bench_gate")
    try:
        info = seed(url, args.subjects, args.per_subject)
        load = os.getloadavg()[0]
        print(f"load average {load:.1f} on {os.cpu_count()} CPUs (the figures scale with it)")
        print(
            f"seeded {info['subjects']:,} subjects, {info['consents']:,} consents in "
            f"{info['total_seconds']:.1f} s (COPY {info['load_seconds']:.1f} s)"
        )
        rt = build_runtime(Settings(database_url=url, env="test", issuer="http://bench"))
        try:
            in_process(rt, info, args.n)
            over_http(rt, info, args.seconds)
        finally:
            rt.dispose()
    finally:
        if args.keep:
            print(f"kept {url}")
        else:
            drop()


if __name__ == "__main__":
    main()
