"""The cabinet's main page under load: a logged-in person's ``/cabinet`` and the JSON calls the
page makes when it opens, against a real ``propusk serve`` process on PostgreSQL.

Data: a fresh database with the demo and its lived-in states (``propusk demo --states``:
consents given, suspended, withdrawn, refused, expired, requested, partially given; transfers
allowed and refused; demands, an access request). The person is the 14–17 student persona
(Волкова Полина), logged in with a real login session (the ``propusk_session`` cookie) as the
ESIA callback would make it. One page load is what ``static/cabinet.js`` asks on opening:
the HTML shell, ``/api/v1/me``, ``/api/v1/messages``, the person's requests, consents,
applications, transfers, held data, obligations and categories (static files left out: a
browser caches them).

Measured with wrk (``-t1``, ``BENCH_CABINET_CONNECTIONS`` connections, ``--latency``), in
alternating rounds on one server process (``BENCH_CABINET_WORKERS``, default 1):
- the page load: wrk cycles through the page's requests; page loads/s = requests/s divided by
  the requests of one load; p99 of one request; CPU ms of the server process(es) per load;
- ``/api/v1/me/consents`` alone (the page's largest answer);
- the peer: ``GET /api/v1/session`` on the same server — the same login cookie resolved, no
  cabinet query — the floor of any authenticated request of this stack.

    .venv/bin/python bench/bench_cabinet.py [--rounds 3] [--seconds 6]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.common import Results, TreeCPU, create_pg_database, wrk_run  # noqa: E402
from tests.support.processes import ServerProcess  # noqa: E402

PAGE = [
    "/cabinet",
    "/api/v1/me",
    "/api/v1/messages",
    "/api/v1/me/requests",
    "/api/v1/me/consents",
    "/api/v1/me/applications",
    "/api/v1/me/transfers",
    "/api/v1/me/data",
    "/api/v1/me/obligations",
    "/api/v1/me/categories",
]
CONSENTS = "/api/v1/me/consents"
PEER = "/api/v1/session"
PERSONA = "student"

LUA = """
local paths = {PATHS}
local i = 0
request = function()
  i = i + 1
  if i > #paths then i = 1 end
  return wrk.format("GET", paths[i], {["Cookie"] = "COOKIE"})
end
"""


def seed(url: str) -> str:
    """Demo + lived-in states; a login session for the persona; returns the cookie."""
    from idp.oidc import logins
    from idp.oidc.principal import SESSION_COOKIE
    from propusk.db import session_scope
    from propusk.demo import seed as seed_demo
    from propusk.demo_states import seed_states
    from propusk.runtime import build_runtime
    from propusk.settings import Settings

    settings = Settings(
        env="test", database_url=url, issuer="http://127.0.0.1", demo=True, upstream="simulator"
    )
    seed_demo(settings)
    report = seed_states(settings)
    persona = report.personas[PERSONA]
    states = ", ".join(f"{k} {len(v)}" for k, v in sorted(persona.consents.items()))
    transfers = ", ".join(f"{k} {len(v)}" for k, v in sorted(persona.transfers.items()))
    print(f"persona {PERSONA}: consents {states}; transfers {transfers}")
    runtime = build_runtime(settings)
    try:
        with session_scope(runtime.sessionmaker) as session:
            raw = logins.create_login_session(
                session,
                persona.login_id,
                amr=["pwd"],
                upstream="esia",
                ttl=3600,
                confirmed=True,
            )
    finally:
        runtime.dispose()
    return f"{SESSION_COOKIE}={raw}"


def script(paths: list[str], cookie: str) -> str:
    listed = "{" + ", ".join(f'"{p}"' for p in paths) + "}"
    return LUA.replace("{PATHS}", listed).replace("COOKIE", cookie)


def check(base: str, cookie: str) -> None:
    """Every request of the load answers 200 for this person (else the load measures errors)
    and the page really shows lived-in data."""
    name, value = cookie.split("=", 1)
    with httpx.Client(base_url=base, cookies={name: value}, timeout=30) as http:
        for path in [*PAGE, PEER]:
            r = http.get(path)
            if r.status_code != 200:
                raise RuntimeError(f"{path}: {r.status_code} {r.text[:200]}")
        consents = http.get(CONSENTS).json()
        states = {c["state"] for c in consents["consents"]}
        if len(states) < 4:
            raise RuntimeError(f"the cabinet shows too few consent states: {states}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=6)
    args = parser.parse_args()
    workers = int(os.environ.get("BENCH_CABINET_WORKERS", "1"))
    connections = int(os.environ.get("BENCH_CABINET_CONNECTIONS", "16"))
    results = Results(
        "cabinet", note=f"{workers} server process(es), wrk -c{connections}, persona {PERSONA}"
    )
    url, drop = create_pg_database("propusk_bench_cabinet")
    try:
        cookie = seed(url)
        with tempfile.TemporaryDirectory(prefix="bench-cabinet-") as tmp:
            # a pooled connection for every concurrent request, as production is sized: with the
            # test harness's 3, each request beyond them opened and closed its own connection
            # (page p99 1.5-1.8x higher at -c16, measured)
            pool = max(10, connections)
            server = ServerProcess(
                url, Path(tmp), workers=workers, name="cabinet", db_pool_size=pool
            ).start()
            try:
                check(server.url, cookie)
                runs = measure(server, cookie, args.rounds, args.seconds, connections)
            finally:
                server.stop()
    finally:
        drop()
    report(results, runs, connections)
    results.write()


def measure(server: ServerProcess, cookie: str, rounds: int, seconds: int, connections: int):
    loads = {
        "page": script(PAGE, cookie),
        "consents": script([CONSENTS], cookie),
        "peer": script([PEER], cookie),
    }
    for body in loads.values():  # warm up: pools, caches, plans
        wrk_run(server.url, body, connections=connections, seconds=2)
    runs: dict[str, list] = {k: [] for k in loads}
    for r in range(rounds):
        for kind, body in loads.items():
            clock = TreeCPU(server.proc.pid).start()
            run = wrk_run(server.url, body, connections=connections, seconds=seconds)
            run.cpu_ms = clock.stop() * 1e3 / run.requests
            runs[kind].append(run)
        print(
            f"round {r + 1}: page {runs['page'][-1].rate:.0f} req/s, consents "
            f"{runs['consents'][-1].rate:.0f} req/s, session (peer) {runs['peer'][-1].rate:.0f}"
            " req/s"
        )
    return runs


def report(results: Results, runs: dict[str, list], connections: int) -> None:
    n = len(PAGE)
    med = statistics.median
    page, consents, peer = runs["page"], runs["consents"], runs["peer"]
    print(
        f"cabinet page load ({n} requests, wrk -c{connections}): median "
        f"{med(r.rate for r in page) / n:.1f} loads/s ({med(r.rate for r in page):.0f} req/s), "
        f"p99 {med(r.p99 for r in page):.1f} ms/request, CPU "
        f"{med(r.cpu_ms for r in page) * n:.1f} ms/load"
    )
    print(
        f"/api/v1/me/consents: median {med(r.rate for r in consents):.0f} req/s, p99 "
        f"{med(r.p99 for r in consents):.1f} ms, CPU {med(r.cpu_ms for r in consents):.2f} ms"
    )
    print(
        f"/api/v1/session (peer): median {med(r.rate for r in peer):.0f} req/s, p99 "
        f"{med(r.p99 for r in peer):.1f} ms, CPU {med(r.cpu_ms for r in peer):.2f} ms"
    )
    results.add(
        f"cabinet page load: HTML + {n - 1} JSON calls, logged-in person, lived-in data",
        "loads/s",
        rounds=[r.rate / n for r in page],
        p99=med(r.p99 for r in page),
        peer=f"{n} x GET /api/v1/session (login cookie only), same server",
        peer_rounds=[r.rate / n for r in peer],
        cpu_ms_per_op=med(r.cpu_ms for r in page) * n,
        note="p99 and the peer per request; CPU per page load",
    )
    results.add(
        "cabinet: GET /api/v1/me/consents (every state), logged-in person",
        "req/s",
        rounds=[r.rate for r in consents],
        p99=med(r.p99 for r in consents),
        peer="GET /api/v1/session, same server",
        peer_rounds=[r.rate for r in peer],
        cpu_ms_per_op=med(r.cpu_ms for r in consents),
    )


if __name__ == "__main__":
    main()
