"""People and statuses: roster import and the per-login refresh (``idp.login.on_login``).

Measures, on SQLite and (when reachable) PostgreSQL, in-process with real transactions:
- importing a roster of N rows (first import, then an unchanged re-import);
- the first login of a parent with one child on the roster (person + child + guardianship +
  student and parent statuses + audit events), and a repeat login of the same person.
The repeat/first ratio shows what the reconciliation costs once nothing changes.
Rows for the summary table: ``bench/results/people.json`` (CPU: this process's, per operation;
the database server's is not in it).

    .venv/bin/python bench/bench_people.py            # N=1000 rows, 100 logins
    BENCH_ROSTER_ROWS=10000 BENCH_LOGINS=500 .venv/bin/python bench/bench_people.py
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Results, create_pg_database, median
from idp import login as idp_login
from idp import roster, schools
from idp.upstream import UpstreamChild, UpstreamIdentity
from propusk.db import session_scope
from propusk.migrate import upgrade
from propusk.runtime import build_runtime
from propusk.settings import Settings

ROWS = int(os.environ.get("BENCH_ROSTER_ROWS", "1000"))
LOGINS = int(os.environ.get("BENCH_LOGINS", "100"))
RESULTS = Results("people")


def snils(n: int) -> str:
    number = f"{2_000_000 + n:09d}"
    total = sum(int(d) * w for d, w in zip(number, range(9, 0, -1), strict=True))
    check = total % 101
    return number + f"{0 if check == 100 else check:02d}"


def ogrn() -> str:
    body = "1" + f"{random.randint(0, 10**11 - 1):011d}"
    return body + str(int(body) % 11 % 10)


def kid(n: int) -> UpstreamChild:
    return UpstreamChild(
        esia_oid=f"k{n}",
        last_name=f"Ученик{n}",
        first_name="Имя",
        birth_date=date(2012, 1, 1 + n % 28),
        snils=snils(n),
    )


def csv_text() -> str:
    rows = ["role,last_name,first_name,middle_name,birth_date,snils,class"]
    for n in range(ROWS):
        k = kid(n)
        rows.append(f"student,{k.last_name},{k.first_name},,{k.birth_date},{k.snils},{n % 11 + 1}А")
    return "\n".join(rows) + "\n"


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def cpu_ms(fn) -> tuple[list[float], float]:
    """``fn()`` returns wall samples (ms); also this process's CPU ms per sample."""
    cpu0 = time.process_time()
    samples = fn()
    return samples, (time.process_time() - cpu0) * 1000 / len(samples)


def run(url: str, label: str) -> None:
    upgrade(url)
    rt = build_runtime(Settings(env="test", database_url=url))
    try:
        with session_scope(rt.sessionmaker) as s:
            school_id = schools.register_school(s, ogrn=ogrn(), name="Бенч-школа").id
        text = csv_text()

        def do_import() -> None:
            with session_scope(rt.sessionmaker) as s:
                roster.import_roster(s, school_id, text, "bench", settings=rt.settings)

        first_import = timed(do_import)
        reimports, reimport_cpu = cpu_ms(lambda: [timed(do_import) for _ in range(3)])

        def login(n: int) -> None:
            ident = UpstreamIdentity(
                esia_oid=f"p{n}",
                last_name=f"Родитель{n}",
                first_name="Имя",
                birth_date=date(1980, 1, 1),
                snils=snils(ROWS + n),
                children=(kid(n),),
            )
            with session_scope(rt.sessionmaker) as s:
                idp_login.on_login(s, ident, settings=rt.settings)

        n = min(LOGINS, ROWS)
        first, first_cpu = cpu_ms(lambda: [timed(lambda i=i: login(i)) for i in range(n)])
        repeat, repeat_cpu = cpu_ms(lambda: [timed(lambda i=i: login(i)) for i in range(n)])
    finally:
        rt.dispose()
    print(
        f"[{label}] roster import {ROWS} rows: first {first_import:.0f} ms, "
        f"unchanged re-import median {median(reimports):.0f} ms"
    )
    print(
        f"[{label}] on_login parent+child (n={n}): first median {median(first):.2f} ms, "
        f"repeat median {median(repeat):.2f} ms, repeat/first {median(repeat) / median(first):.2f}"
    )
    RESULTS.add(
        f"[{label}] roster re-import, {ROWS} rows unchanged",
        "ms",
        better="lower",
        median=median(reimports),
        peer="first import of the same roster",
        peer_median=first_import,
        cpu_ms_per_op=reimport_cpu,
    )
    RESULTS.add(
        f"[{label}] login refresh (on_login) parent + child, repeat",
        "ms",
        better="lower",
        median=median(repeat),
        latencies_ms=repeat,
        peer="first login of the same people",
        peer_median=median(first),
        cpu_ms_per_op=repeat_cpu,
        note=f"first login CPU {first_cpu:.2f} ms",
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/bench.db", "sqlite")
    try:
        url, drop = create_pg_database("propusk_bench_people")
    except Exception as exc:  # PostgreSQL is optional for a local bench run
        print(f"[postgres] skipped: {type(exc).__name__}")
        RESULTS.write()
        return
    try:
        run(url, "postgres")
    finally:
        drop()
    RESULTS.write()


if __name__ == "__main__":
    main()
