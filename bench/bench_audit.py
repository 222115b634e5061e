"""Audit log benchmark (PostgreSQL, loopback): append throughput and proof latency at scale.

    .venv/bin/python bench/bench_audit.py            # 1,000,000 events (a few minutes)
    AUDIT_BENCH_EVENTS=100000 .venv/bin/python bench/bench_audit.py   # quicker

Prints medians: single appends (one event per transaction, as a request records it; ``record``
under the sequencer lock and ``record_deferred`` through the outbox), batched
appends (``record_many``, 1,000 per transaction), the time to fill the log, then at the full size:
inclusion and consistency proof latency in the service (stored-subtree lookups) and over HTTP
(a real uvicorn on loopback), the latest checkpoint over HTTP, and a full ``verify``.
Targets (issue 3): >= 5,000 appends/s batched; inclusion proof <= 2 ms at 1M events.
Rows for the summary table: ``bench/results/audit.json`` (CPU: this process's, per operation;
PostgreSQL's work is not in it). ``make bench`` fills 200,000 events (``AUDIT_BENCH_EVENTS``).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.common import Results, create_pg_database, free_port, median, wait_http
from bench.summary import percentile
from propusk.db import session_scope
from propusk.runtime import build_runtime
from propusk.settings import Settings

BODY = {"purpose": "exam-proctoring", "operator": "org:7", "decision": "allow", "n": 0}


def event(i: int):
    from audit.service import NewEvent

    return NewEvent("gate.decision", "client:operator-7", f"person:{i % 5000}", {**BODY, "n": i})


def bench_single(rt, count: int) -> list[float]:
    from audit import service

    times = []
    for i in range(count):
        t0 = time.perf_counter()
        with session_scope(rt.sessionmaker) as s:
            ev = event(i)
            service.record(s, ev.event_type, actor=ev.actor, subject=ev.subject, body=ev.body)
        times.append(time.perf_counter() - t0)
    return times


def bench_single_deferred(rt, count: int) -> list[float]:
    """The gate's path: ``record_deferred`` (outbox row, no sequencer lock), the sequencer
    thread integrating meanwhile as in the app."""
    from audit import service

    times = []
    for i in range(count):
        t0 = time.perf_counter()
        with session_scope(rt.sessionmaker) as s:
            ev = event(i)
            service.record_deferred(
                s, ev.event_type, actor=ev.actor, subject=ev.subject, body=ev.body
            )
        times.append(time.perf_counter() - t0)
    return times


def bench_plain_insert(rt, count: int) -> list[float]:
    """The peer: one plain JSON row inserted and committed per transaction (same database), so
    the audit's own cost is visible apart from the commit (fsync) every transaction pays."""
    from sqlalchemy import text

    with session_scope(rt.sessionmaker) as s:
        s.execute(
            text("CREATE TABLE IF NOT EXISTS bench_plain (id bigserial PRIMARY KEY, b jsonb)")
        )
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        with session_scope(rt.sessionmaker) as s:
            s.execute(text("INSERT INTO bench_plain (b) VALUES (CAST(:b AS jsonb))"), {"b": "{}"})
        times.append(time.perf_counter() - t0)
    return times


def bench_concurrent(rt, writers: int, per_writer: int, deferred: bool = False) -> float:
    """Single-event transactions from several threads: ``record`` holds the sequencer lock to
    commit; ``record_deferred`` takes no lock (the sequencer thread integrates)."""
    from audit import service

    append = service.record_deferred if deferred else service.record

    def work(w: int) -> None:
        for i in range(per_writer):
            with session_scope(rt.sessionmaker) as s:
                ev = event(w * per_writer + i)
                append(s, ev.event_type, actor=ev.actor, subject=ev.subject, body=ev.body)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return writers * per_writer / (time.perf_counter() - t0)


def bench_deferred(rt, count: int) -> tuple[list[float], float, float]:
    """Deferred appends, one writer then 8, with the app's sequencer thread; then how long the
    outbox takes to drain after the last commit."""
    from audit import service
    from audit.sequencer import Sequencer

    sequencer = Sequencer(rt.sessionmaker)
    sequencer.start()
    try:
        single = bench_single_deferred(rt, count)
        rate = bench_concurrent(rt, 8, max(count // 8, 10), deferred=True)
        t0 = time.perf_counter()
        while True:
            with session_scope(rt.sessionmaker) as s:
                if service.pending_count(s) == 0:
                    break
            time.sleep(0.005)
        lag = time.perf_counter() - t0
    finally:
        sequencer.stop()
    return single, rate, lag


def fill_batched(rt, total: int, batch: int) -> tuple[list[float], float]:
    """Append until the log holds ``total`` events; returns per-batch rates and elapsed."""
    from audit import repository, service

    with session_scope(rt.sessionmaker) as s:
        size = repository.read_head(s)[0]
    rates, start = [], time.perf_counter()
    while size < total:
        n = min(batch, total - size)
        t0 = time.perf_counter()
        with session_scope(rt.sessionmaker) as s:
            service.record_many(s, [event(size + i) for i in range(n)])
        rates.append(n / (time.perf_counter() - t0))
        size += n
        if len(rates) % 100 == 0:
            print(f"  ... {size:,} events", flush=True)
    return rates, time.perf_counter() - start


def settle(url: str) -> float:
    """VACUUM ANALYZE and CHECKPOINT after the bulk fill, so proofs are measured in steady state
    rather than against the checkpointer flushing the fill's dirty pages."""
    from sqlalchemy import text

    from propusk.db import make_engine

    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    t0 = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE audit_event, audit_node"))
        conn.execute(text("CHECKPOINT"))
    engine.dispose()
    return time.perf_counter() - t0


def bench_proofs(rt, size: int, count: int) -> tuple[list[float], list[float]]:
    from audit import merkle, service

    rng = random.Random(1)
    incl, cons = [], []
    with session_scope(rt.sessionmaker) as s:
        root = service.root_at(s, size)
        for _ in range(count):
            i = rng.randrange(size)
            t0 = time.perf_counter()
            proof = service.inclusion_proof(s, i, size)
            incl.append(time.perf_counter() - t0)
            if len(incl) <= 20:
                lh = service.get_event(s, i).leaf_hash
                assert merkle.verify_inclusion(i, size, lh, proof, root)
        for _ in range(count):
            m = rng.randrange(1, size)
            t0 = time.perf_counter()
            service.consistency_proof(s, m, size)
            cons.append(time.perf_counter() - t0)
    return incl, cons


def bench_http(settings: Settings, size: int, count: int) -> tuple[list[float], list[float]]:
    import uvicorn
    from fastapi import FastAPI

    from audit.wiring import install
    from policies.wiring import install as install_policies
    from propusk.errors import install_error_handlers
    from propusk.routes import router as health_router
    from propusk.security import Principal, RoleGrant

    port = free_port()
    settings = settings.model_copy(update={"issuer": f"http://127.0.0.1:{port}"})
    # Only audit and policies (as create_app wires them): other packages do not skew the figure.
    runtime = build_runtime(settings)
    app = FastAPI()
    app.state.runtime, app.state.settings = runtime, settings
    app.state.engine, app.state.sessionmaker = runtime.engine, runtime.sessionmaker
    install_error_handlers(app)
    app.include_router(health_router)
    install(app)
    install_policies(app)
    admin = Principal(
        kind="platform_admin",
        subject="person:bench",
        roles=(RoleGrant("platform_admin", "*"),),
        channel="session",
    )
    app.state.principal_resolver = lambda request, session: admin
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/healthz")
    rng = random.Random(2)
    proof_t, cp_t = [], []
    try:
        with httpx.Client(base_url=base) as c:
            c.get("/api/v1/audit/checkpoint").raise_for_status()
            for _ in range(count):
                params = {"index": rng.randrange(size), "tree_size": size}
                t0 = time.perf_counter()
                c.get("/api/v1/audit/proofs/inclusion", params=params).raise_for_status()
                proof_t.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                c.get("/api/v1/audit/checkpoint").raise_for_status()
                cp_t.append(time.perf_counter() - t0)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        runtime.dispose()
    return proof_t, cp_t


def bench_verify(rt) -> tuple[float, int, bool]:
    from audit import checkpoint
    from audit.verify import verify_log

    with session_scope(rt.sessionmaker) as s:
        checkpoint.sign_checkpoint(s, rt.settings)
    t0 = time.perf_counter()
    with session_scope(rt.sessionmaker) as s:
        report = verify_log(s, checkpoint.trusted_verifier(s, rt.settings))
    return time.perf_counter() - t0, report.size, report.ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=int(os.environ.get("AUDIT_BENCH_EVENTS", 10**6)))
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--single", type=int, default=2000)
    ap.add_argument("--proofs", type=int, default=2000)
    ap.add_argument(
        "--appends-only", action="store_true", help="single/concurrent appends only (no fill)"
    )
    args = ap.parse_args()

    url, drop = create_pg_database("propusk_bench_audit")
    settings = Settings(env="test", database_url=url, issuer="http://127.0.0.1", demo=True)
    rt = build_runtime(settings)
    results = Results("audit", note=f"{args.events:,} events")

    def cpu_per_op(cpu0: float, n: int) -> float:
        return (time.process_time() - cpu0) * 1e3 / n

    try:
        cpu0 = time.process_time()
        plain_t = bench_plain_insert(rt, args.single)
        plain_cpu = cpu_per_op(cpu0, args.single)
        cpu0 = time.process_time()
        single_t = bench_single(rt, args.single)
        single_cpu = cpu_per_op(cpu0, args.single)
        plain, single = median(plain_t), median(single_t)
        print(f"peer: plain row insert + commit: median {plain * 1e3:.2f} ms")
        print(
            f"single append (1 event/transaction): median {single * 1e3:.2f} ms "
            f"-> {1 / single:,.0f} appends/s (one writer); ratio to the peer {single / plain:.2f}"
        )

        def append_row(figure: str, samples: list[float], cpu: float, note: str) -> None:
            """A one-event-per-transaction append against the plain insert."""
            results.latency(
                figure,
                samples,
                peer="plain JSON row insert + commit",
                peer_median=plain * 1e3,
                cpu_ms_per_op=cpu,
                note=note,
            )

        append_row(
            "single append (record: 1 event/transaction, sequencer lock)",
            single_t,
            single_cpu,
            f"peer CPU {plain_cpu:.2f} ms",
        )
        rate = bench_concurrent(rt, 8, max(args.single // 8, 10))
        print(f"single appends from 8 concurrent writers: {rate:,.0f} appends/s")
        cpu0 = time.process_time()
        deferred_t, deferred_rate, lag = bench_deferred(rt, args.single)
        deferred_single = median(deferred_t)
        print(
            f"deferred append (outbox, sequencer thread running): median "
            f"{deferred_single * 1e3:.2f} ms (ratio to the peer {deferred_single / plain:.2f}); "
            f"8 concurrent writers: {deferred_rate:,.0f} appends/s; outbox drained {lag:.2f} s "
            "after the last commit"
        )
        append_row(
            "deferred append (record_deferred: outbox, sequencer thread running)",
            deferred_t,
            cpu_per_op(cpu0, args.single + 8 * max(args.single // 8, 10)),
            f"8 writers {deferred_rate:,.0f}/s, single appends 8 writers {rate:,.0f}/s",
        )
        if args.appends_only:
            return
        cpu0 = time.process_time()
        rates, elapsed = fill_batched(rt, args.events, args.batch)
        print(
            f"batched append ({args.batch}/transaction): median {median(rates):,.0f} appends/s "
            f"(target >= 5,000); filled {args.events:,} events in {elapsed:.1f} s"
        )
        results.add(
            f"batched append (record_many, {args.batch}/transaction)",
            "events/s",
            median=median(rates),
            cpu_ms_per_op=cpu_per_op(cpu0, args.events),
        )
        print(f"VACUUM ANALYZE + CHECKPOINT after the fill: {settle(url):.1f} s")
        cpu0 = time.process_time()
        incl_t, cons_t = bench_proofs(rt, args.events, args.proofs)
        proofs_cpu = cpu_per_op(cpu0, 2 * args.proofs)
        incl, cons = median(incl_t), median(cons_t)
        p99 = percentile(incl_t, 99)
        print(
            f"inclusion proof at {args.events:,} (service): median {incl * 1e3:.3f} ms, "
            f"p99 {p99 * 1e3:.3f} ms (target <= 2 ms)"
        )
        print(f"consistency proof at {args.events:,} (service): median {cons * 1e3:.3f} ms")
        results.latency(
            f"inclusion proof at {args.events:,} events (service)",
            incl_t,
            cpu_ms_per_op=proofs_cpu,
            note="CPU: inclusion and consistency proofs together",
        )
        results.latency(f"consistency proof at {args.events:,} events (service)", cons_t)
        cpu0 = time.process_time()
        proof_t, cp_t = bench_http(settings, args.events, min(args.proofs, 1000))
        http_cpu = cpu_per_op(cpu0, 2 * len(proof_t))
        http_proof, http_cp = median(proof_t), median(cp_t)
        print(
            f"inclusion proof at {args.events:,} (HTTP, loopback): median "
            f"{http_proof * 1e3:.2f} ms; latest checkpoint (HTTP): median {http_cp * 1e3:.2f} ms"
        )
        results.latency(
            f"inclusion proof at {args.events:,} events over HTTP (uvicorn thread, sequential)",
            proof_t,
            cpu_ms_per_op=http_cpu,
            note="CPU: client and server in one process, proofs and checkpoints together",
        )
        seconds, size, ok = bench_verify(rt)
        print(
            f"audit verify of {size:,} events: {seconds:.1f} s "
            f"({size / seconds:,.0f} events/s), ok={ok}"
        )
        results.add(f"audit verify of {size:,} events (ok={ok})", "events/s", median=size / seconds)
    finally:
        rt.dispose()
        drop()
        results.write()


if __name__ == "__main__":
    main()
