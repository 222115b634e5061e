"""Transfer gate on PostgreSQL: decisions per second and p50/p99 latency, against an ungated
read of the same vault data in the same run.

Seeds a fresh database with ``bench/seed_gate.py`` (COPY), then, with real transactions:
- in process, one thread: ``decide`` (the gate decision alone, rolled back), ``gated pull``
  (what ``GET /api/v1/subjects/{id}/data`` does — decision + transfer record + audit outbox
  event + vault read of the allowed categories — in its own committed transaction) and the
  ``ungated read`` peer (the same vault read, no gate, no record);
- in process, concurrent: gated pulls through the ``PullBatcher`` (group commit; what the
  fast lane uses) from ``CALLERS`` threads, against ungated reads from ``THREADS`` threads;
- over HTTP (uvicorn in this process, wrk, real client_credentials access tokens): the gated
  pull (fast lane + batcher), the same route with the lane off (``consent_pull_workers=0``:
  one transaction per request in the threadpool) and two ungated peers — bench-only ASGI
  endpoints in the same server (``bench/gate_server.py``) with the same token verification
  and revocation check that read the same vault rows without gate or record: one transaction
  per read, and group-read through the same batcher machinery (the gated pull minus the gate:
  the ratio against it is the gate's own cost). CPU milliseconds per request of the server
  process and of PostgreSQL are reported too (less machine-dependent than rates). The gated
  HTTP figure is the per-process figure for the >= 1,500 gated reads/s target.
Rows for the summary table: ``bench/results/gate.json`` (in-process CPU: this process's CPU
time, the sequencer and batcher threads included, per operation).

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

from bench.common import (
    Results,
    cpu_delta,
    cpu_seconds,
    create_pg_database,
    free_port,
    postgres_pids,
    wait_http,
    wrk_run,
)
from bench.seed_gate import seed
from bench.summary import percentile
from consent import parties

CATEGORIES = ["person.fullname", "education.grades"]


RESULTS = Results("gate")


def _report(name: str, timed: tuple[list[float], float, float]) -> float:
    lat, elapsed, cpu = timed
    rate = len(lat) / elapsed
    print(
        f"  {name:<14} n={len(lat):>6}  {rate:>8.0f}/s  p50={statistics.median(lat) * 1e3:6.2f} ms"
        f"  p99={percentile(lat, 99) * 1e3:6.2f} ms  cpu {cpu * 1e3 / len(lat):.2f} ms/op"
    )
    return rate


def _row(figure: str, timed, peer: tuple[str, tuple] | None = None) -> None:
    """A row of the summary table from an in-process measurement (and its peer's)."""
    lat, elapsed, cpu = timed
    extra = {}
    if peer is not None:
        plat, pelapsed, _ = peer[1]
        extra = {"peer": peer[0], "peer_median": len(plat) / pelapsed}
    RESULTS.add(
        figure,
        "op/s",
        median=len(lat) / elapsed,
        p99=percentile(lat, 99) * 1e3,
        cpu_ms_per_op=cpu * 1e3 / len(lat),
        **extra,
    )


def _timed(n: int, fn) -> tuple[list[float], float, float]:
    """Latencies, elapsed seconds and this process's CPU seconds of ``fn(0..n-1)``."""
    lat = []
    cpu0 = time.process_time()
    start = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        lat.append(time.perf_counter() - t)
    return lat, time.perf_counter() - start, time.process_time() - cpu0


THREADS = 4  # ungated readers: more only add contention on 2 cores
CALLERS = 64  # concurrent in-process gated pulls
CONNECTIONS = 16  # HTTP: a moderate load …
HIGH = int(os.environ.get("BENCH_GATE_CONNECTIONS", "64"))  # … and many operators at once


def _threaded(n: int, fn, threads: int) -> tuple[list[float], float, float]:
    """``fn(0..n-1)`` spread over ``threads`` threads; per-call latencies and the elapsed time."""
    lat: list[float] = []
    lock = threading.Lock()

    def work(k: int) -> None:
        mine = []
        for i in range(k, n, threads):
            t = time.perf_counter()
            fn(i)
            mine.append(time.perf_counter() - t)
        with lock:
            lat.extend(mine)

    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    cpu0 = time.process_time()
    start = time.perf_counter()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return lat, time.perf_counter() - start, time.process_time() - cpu0


def in_process(rt, info: dict, n: int) -> tuple[float, float]:
    from consent import flows, gate, vault
    from propusk.db import session_scope, utcnow

    rnd = random.Random(1)
    picks = [rnd.choice(info["sample"]) for _ in range(n)]
    with session_scope(rt.sessionmaker) as s:
        operators = {str(o): parties.get(s, o) for o in info["operators"]}
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
    from consent.batcher import PullBatcher
    from consent.flows import PullAsk

    batcher = PullBatcher(rt.sessionmaker, rt.settings)

    def batched(i: int) -> None:
        subj, op, purpose = picks[i]
        ask = PullAsk(uuid.UUID(op), uuid.UUID(subj), purpose, CATEGORIES, "client:bench")
        out = batcher.submit(ask).result()
        assert out.data, out.decision.refused

    sequencer = Sequencer(rt.sessionmaker)  # as in the app: the outbox is drained meanwhile
    sequencer.start()
    batcher.start()
    try:
        for fn in (decide, pull, ungated, batched):  # warm up caches and the pool
            _timed(min(200, n), fn)
        print("in-process, one thread (audit sequencer thread running):")
        decisions = _timed(n, decide)
        _report("decide", decisions)
        _row("gate decision alone, in process, one thread", decisions)
        pulls, reads = _timed(n, pull), _timed(n, ungated)
        gated, plain = _report("gated pull", pulls), _report("ungated read", reads)
        _row(
            "gated pull (decision + record + audit + vault), in process, one thread",
            pulls,
            ("vault read, no gate", reads),
        )
        print(f"  ratio gated/ungated throughput (one thread): {gated / plain:.2f}")
        print(
            f"in-process, concurrent: gated pulls from {CALLERS} threads through the batcher "
            f"({batcher.workers} workers), ungated reads from {THREADS} threads:"
        )
        before = (batcher.batches, batcher.pulls)
        batched_run = _threaded(n, batched, CALLERS)
        gated_mt = _report("gated pull", batched_run)
        batches, pulls = batcher.batches - before[0], batcher.pulls - before[1]
        reads_mt = _threaded(n, ungated, THREADS)
        plain_mt = _report("ungated read", reads_mt)
        _row(
            f"gated pull through the batcher, in process, {CALLERS} threads",
            batched_run,
            (f"vault read, no gate, {THREADS} threads", reads_mt),
        )
        print(f"  mean batch: {pulls / max(1, batches):.1f} pulls")
        print(f"  ratio gated/ungated throughput (concurrent): {gated_mt / plain_mt:.2f}")
    finally:
        batcher.stop()
        sequencer.stop()
    run_once(rt.sessionmaker)
    with session_scope(rt.sessionmaker) as s:
        print(f"  audit log: {audit.tree_size(s):,} events, {audit.pending_count(s)} pending")
    return gated_mt, plain_mt


def _operator_clients(rt, operators: list[str]) -> dict[str, tuple[str, str]]:
    """One client_credentials client per operator, bound to its organisation."""
    from idp.oidc import clients
    from propusk.db import session_scope

    creds = {}
    with session_scope(rt.sessionmaker) as s:
        for op in operators:
            row, secret = clients.create_client(
                s,
                name=f"bench-{op[:8]}-{uuid.uuid4().hex[:4]}",
                grant_types=["client_credentials"],
                role="operator",
                organization_id=uuid.UUID(op),
            )
            creds[op] = (row.client_id, secret)
    return creds


def _tokens(port: int, creds: dict[str, tuple[str, str]]) -> dict[str, str]:
    """A real access token per operator from the server on ``port`` (its own issuer)."""
    import httpx

    tokens = {}
    for op, (cid, secret) in creds.items():
        r = httpx.post(
            f"http://127.0.0.1:{port}/oauth2/token",
            auth=(cid, secret),
            data={"grant_type": "client_credentials"},
            timeout=30,
        )
        r.raise_for_status()
        tokens[op] = r.json()["access_token"]
    return tokens


def _wrk(port: int, lines: list[str], seconds: int, connections: int = CONNECTIONS):
    """wrk over a list of 'path<TAB>token' lines (rotating)."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "paths.txt"
        data.write_text("\n".join(lines) + "\n")
        script = LUA.replace("DATA", str(data))
        return wrk_run(f"http://127.0.0.1:{port}", script, connections=connections, seconds=seconds)


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


class _Server:
    """``bench/gate_server.py`` in its own process (one uvicorn process, as in production),
    plus, for ``--sequencer external``, a ``propusk audit sequence --follow`` process."""

    def __init__(self, url: str, *args: str) -> None:
        self.port = free_port()
        root = Path(__file__).resolve().parent.parent
        self.procs = []
        if "external" in args:
            env = {**os.environ, "PROPUSK_DATABASE_URL": url, "PROPUSK_ENV": "test"}
            cmd = [str(Path(sys.executable).parent / "propusk"), "audit", "sequence", "--follow"]
            self.procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL))
        cmd = [sys.executable, "-m", "bench.gate_server", url, str(self.port), *args]
        self.procs.append(subprocess.Popen(cmd, cwd=root))
        wait_http(f"http://127.0.0.1:{self.port}/healthz", timeout=60)

    def cpu(self) -> tuple[dict[int, float], dict[int, float]]:
        """CPU seconds so far per process: (the Propusk processes, PostgreSQL's)."""
        return cpu_seconds(p.pid for p in self.procs), cpu_seconds(postgres_pids())

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
            proc.wait(timeout=60)


# (label, gate_server arguments, path kind, connections)
HTTP_RUNS = [
    ("gated pull", (), "gated", "HIGH"),
    ("gated pull, external sequencer", ("--sequencer", "external"), "gated", "HIGH"),
    ("ungated read", (), "plain/", "HIGH"),
    ("ungated read, group-read", (), "plain-batched/", "HIGH"),
    ("gated pull", (), "gated", "LOW"),
    ("ungated read", (), "plain/", "LOW"),
    ("ungated read, group-read", (), "plain-batched/", "LOW"),
    ("gated pull, lane off", ("--workers", "0"), "gated", "LOW"),
]
# ``make bench`` (BENCH_GATE_SHORT=1) leaves out the two variants no other line is compared with.
SHORT_SKIPS = {("ungated read", "HIGH"), ("gated pull, external sequencer", "HIGH")}


def _same_data(port: int, pick: tuple[str, str, str], token: str) -> None:
    """The peers answer exactly the data the gated pull answers (else the ratio means nothing)."""
    import httpx

    subject, _, purpose = pick
    cats = ",".join(CATEGORIES)
    auth = {"Authorization": f"Bearer {token}"}
    base = f"http://127.0.0.1:{port}"
    gated = httpx.get(
        f"{base}/api/v1/subjects/{subject}/data?purpose={purpose}&categories={cats}", headers=auth
    )
    gated.raise_for_status()
    for prefix in ("plain/", "plain-batched/"):
        plain = httpx.get(f"{base}/bench/{prefix}{subject}?categories={cats}", headers=auth)
        plain.raise_for_status()
        if plain.json()["data"] != gated.json()["data"] or not gated.json()["data"]:
            raise RuntimeError(f"/bench/{prefix} answers other data than the gated pull")


def over_http(rt, url: str, info: dict, seconds: int, rounds: int) -> None:
    """Alternating rounds; each run starts its own server (so no idle server's sequencer works
    meanwhile), warms it up and measures it; medians per configuration."""
    if not shutil.which("wrk"):
        print("wrk missing: HTTP part skipped (make system-deps)")
        return
    rnd = random.Random(2)
    picks = [rnd.choice(info["sample"]) for _ in range(20_000)]
    cats = ",".join(CATEGORIES)
    creds = _operator_clients(rt, [str(o) for o in info["operators"]])
    conns_of = {"HIGH": HIGH, "LOW": CONNECTIONS}
    results: dict[tuple[str, int], list[tuple[float, float, float, float, float]]] = {}
    runs = HTTP_RUNS
    if os.environ.get("BENCH_GATE_SHORT") == "1":
        runs = [r for r in HTTP_RUNS if (r[0], r[3]) not in SHORT_SKIPS]
    for _ in range(rounds):
        for label, args, kind, level in runs:
            conns = conns_of[level]
            server = _Server(url, *args)
            try:
                tokens = _tokens(server.port, creds)
                _same_data(server.port, picks[0], tokens[picks[0][1]])
                if kind == "gated":
                    lines = [
                        f"/api/v1/subjects/{s}/data?purpose={p}&categories={cats}\t{tokens[o]}"
                        for s, o, p in picks
                    ]
                else:
                    lines = [
                        f"/bench/{kind}{s}?categories={cats}\t{tokens[o]}" for s, o, p in picks
                    ]
                _wrk(server.port, lines[-3000:], 3, conns)  # warm up: pools, caches, plans
                before = server.cpu()
                run = _wrk(server.port, lines, seconds, conns)
                after = server.cpu()
            finally:
                server.stop()
            app_ms, pg_ms = (
                cpu_delta(b, a) * 1e3 / run.requests for b, a in zip(before, after, strict=True)
            )
            results.setdefault((label, conns), []).append(
                (run.rate, run.p50, run.p99, app_ms, pg_ms)
            )
    print(
        f"HTTP (one uvicorn process, wrk -t1 {seconds}s, real access tokens; median of "
        f"{rounds} alternating rounds, p50/p99 of that round; all rounds in brackets; CPU "
        "milliseconds per request of the Propusk process(es) and of PostgreSQL, median):"
    )
    medians = {}
    for (label, conns), outs in results.items():
        outs.sort(key=lambda o: o[0])
        rate, p50, p99, _, _ = outs[len(outs) // 2]
        app_ms = statistics.median(o[3] for o in outs)
        pg_ms = statistics.median(o[4] for o in outs)
        medians[(label, conns)] = rate
        spread = ", ".join(f"{o[0]:.0f}" for o in outs)
        print(
            f"  -c{conns:<3} {label:<31} {rate:7.0f} req/s  p50={p50:6.2f} ms  p99={p99:6.2f} ms"
            f"  cpu/req app {app_ms:.2f} ms, pg {pg_ms:.2f} ms  ({spread})"
        )
    peers = {
        "gated pull": "ungated read, group-read",
        "gated pull, lane off": "ungated read",
        "gated pull, external sequencer": "ungated read, group-read",
    }
    for (label, conns), outs in results.items():
        if label not in peers:
            continue
        peer = peers[label]
        RESULTS.add(
            f"HTTP {label} (one uvicorn process, wrk -c{conns})",
            "req/s",
            rounds=[o[0] for o in outs],
            p99=statistics.median(o[2] for o in outs),
            peer=f"{peer} (same server, no gate)",
            peer_rounds=[o[0] for o in results[(peer, conns)]],
            cpu_ms_per_op=statistics.median(o[3] for o in outs),
            note=f"PostgreSQL CPU {statistics.median(o[4] for o in outs):.2f} ms/request",
        )
    for conns in (HIGH, CONNECTIONS):
        gated = medians[("gated pull", conns)]
        grouped = gated / medians[("ungated read, group-read", conns)]
        single = medians.get(("ungated read", conns))
        single_text = f"{gated / single:.2f} against one transaction per read, " if single else ""
        print(
            f"  ratio gated/ungated throughput, -c{conns}: {single_text}"
            f"{grouped:.2f} against group-read (the gate's own cost)"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--subjects", type=int, default=int(os.environ.get("BENCH_GATE_SUBJECTS", "20000"))
    )
    ap.add_argument("--per-subject", type=int, default=10)
    ap.add_argument("-n", type=int, default=int(os.environ.get("BENCH_GATE_N", "3000")))
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_GATE_SECONDS", "8")))
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_GATE_ROUNDS", "3")))
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    ap.add_argument("--no-http", action="store_true", help="only the in-process part")
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
        settings = Settings(
            database_url=url, env="test", issuer="http://bench", access_token_ttl=3600
        )
        rt = build_runtime(settings)
        try:
            in_process(rt, info, args.n)
            if not args.no_http:
                over_http(rt, url, info, args.seconds, args.rounds)
        finally:
            rt.dispose()
        RESULTS.note = f"{info['subjects']:,} subjects, {info['consents']:,} consents"
        RESULTS.write()
    finally:
        if args.keep:
            print(f"kept {url}")
        else:
            drop()


if __name__ == "__main__":
    main()
