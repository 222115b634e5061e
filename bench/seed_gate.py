"""Seed a PostgreSQL database for ``bench_gate``: subjects, operators, templates, consents and
vault items, with COPY (binary-free CSV text streamed by psycopg).

Shape: 10 operators × 4 purposes = 40 templates; each subject has ``--per-subject`` consents
(default 10) over distinct (operator, purpose) pairs, 90 % given and 10 % withdrawn; each
subject has two plain vault items (``person.fullname``, ``education.grades``). Consent events
are not seeded (the gate never reads them). FK triggers are off during COPY
(``session_replication_role = replica``; the generated data are consistent by construction),
indexes are built after loading.

    .venv/bin/python bench/seed_gate.py URL --subjects 1000000     # 10M consents
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

OPERATORS = 10
PURPOSES = [
    "attestation.online",
    "olympiad.registration",
    "statistics.regional",
    "biometric.identification",
]
CATEGORIES = ["person.fullname", "education.grades", "education.attendance"]
ACTIONS = json.dumps(["сбор", "хранение", "использование", "передача"], ensure_ascii=False)
CHUNK = 50_000
STEPS = [k for k in range(1, 40) if k % 2 and k % 5]

CONSENT_INDEXES = [
    "ix_consent_gate",
    "ix_consent_subject_id",
    "ix_consent_vault_item_subject_id",
]


def _ogrn(n: int) -> str:
    body = f"1{n:011d}"
    return body + str(int(body) % 11 % 10)


def _inn(n: int) -> str:
    d = [int(c) for c in f"{n:09d}"]
    w = [2, 4, 10, 3, 5, 9, 4, 6, 8]
    return "".join(map(str, d)) + str(sum(a * b for a, b in zip(w, d, strict=True)) % 11 % 10)


def _copy_lines(cur, table: str, columns: list[str], lines) -> int:
    """COPY pre-formatted text lines in chunks; returns the row count."""
    n = 0
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with cur.copy(sql) as cp:
        chunk: list[str] = []
        for line in lines:
            chunk.append(line)
            n += 1
            if len(chunk) == CHUNK:
                cp.write("\n".join(chunk) + "\n")
                chunk = []
        if chunk:
            cp.write("\n".join(chunk) + "\n")
    return n


def _esc(s: str) -> str:
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def seed(url: str, subjects: int, per_subject: int = 10, seed_value: int = 7) -> dict:
    """Load the data; returns ids the bench needs (operators, subjects sample)."""
    import psycopg

    from consent import catalogue, parties
    from consent import templates as consent_templates
    from propusk.db import make_engine, session_scope
    from propusk.runtime import Runtime
    from propusk.settings import Settings

    rnd = random.Random(seed_value)
    now = datetime.now(UTC)
    ts = now.isoformat()
    valid_until = (now + timedelta(days=365)).isoformat()
    expires = (now + timedelta(days=30)).isoformat()

    settings = Settings(database_url=url)
    engine = make_engine(url)
    from propusk.db import make_sessionmaker

    rt = Runtime(settings, engine, make_sessionmaker(engine))
    operators: list[uuid.UUID] = []
    supplier: uuid.UUID
    templates: dict[tuple[int, str], uuid.UUID] = {}
    with session_scope(rt.sessionmaker) as s:
        catalogue.load_catalogue(s)
        for i in range(OPERATORS):
            org = parties.register_organization(
                s,
                {
                    "kind": "operator",
                    "name": f"Оператор {i}",
                    "inn": _inn(100 + i),
                    "ogrn": _ogrn(5000 + i),
                    "address": "Москва",
                    "storage_country": "RU",
                    "storage_location": "ЦОД",
                    "registry_number": f"77-{i}",
                },
                actor="bench",
            )
            operators.append(org.id)
            for p in PURPOSES:
                tpl = consent_templates.publish_template(
                    s,
                    org,
                    {
                        "key": p,
                        "text": f"Согласие на {p}",
                        "purpose": p,
                        "categories": CATEGORIES,
                        "actions": json.loads(ACTIONS),
                        "processing_methods": ["automated"],
                        "term_days": 365,
                        "withdrawal_method": "в личном кабинете",
                        "form": "any",
                    },
                    actor="bench",
                )
                templates[(i, p)] = tpl.id
        sup = parties.register_organization(
            s,
            {
                "kind": "supplier",
                "name": "Школа",
                "inn": _inn(999),
                "ogrn": _ogrn(9999),
                "address": "Москва",
                "storage_country": "RU",
                "storage_location": "ЦОД",
                "registry_number": "77-s",
            },
            actor="bench",
        )
        supplier = sup.id
    engine.dispose()

    pairs = [(i, p) for i in range(OPERATORS) for p in PURPOSES]
    # Ids are a random 64-bit run prefix + a counter: unique, fast, and UUID-shaped.
    run = f"{rnd.getrandbits(32):08x}-{rnd.getrandbits(16):04x}-4{rnd.getrandbits(12):03x}"
    subject_ids = [f"{run}-8000-{n:012x}" for n in range(subjects)]
    sample: list[tuple[str, str, str]] = []  # (subject, operator, purpose) of given consents
    sample_p = min(1.0, 200_000 / max(1, subjects))
    cats_json = _esc(json.dumps(CATEGORIES[:2]))
    sig = _esc(json.dumps([{"role": "subject", "method": "seed"}]))
    # Everything after (id, subject) depends only on the (operator, purpose) pair and state.
    tails = {
        (k, given): "\t".join(
            (
                str(operators[i]),
                str(templates[(i, p)]),
                p,
                cats_json,
                ACTIONS,
                "any",
                "given" if given else "withdrawn",
                "adult",
                sig,
                ts,
                expires,
                ts,
                ts,
                valid_until,
                "\\N" if given else ts,
                "2",
                "0" * 64,
                ts,
            )
        )
        for k, (i, p) in enumerate(pairs)
        for given in (True, False)
    }
    t0 = time.monotonic()
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=False) as conn, conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        cur.execute("SET synchronous_commit = off")
        for ix in CONSENT_INDEXES:
            cur.execute(f"DROP INDEX IF EXISTS {ix}")
        cur.execute(
            "ALTER TABLE consent_vault_item DROP CONSTRAINT IF EXISTS uq_consent_vault_item"
        )

        people_tail = f"\tФамилия\tИмя\t2000-01-01\tt\t{ts}\t{ts}"
        _copy_lines(
            cur,
            "person",
            [
                "id",
                "esia_oid",
                "last_name",
                "first_name",
                "birth_date",
                "trusted",
                "created_at",
                "updated_at",
            ],
            (f"{sid}\tb{n}{people_tail}" for n, sid in enumerate(subject_ids)),
        )

        def consents():
            n = 0
            for j, sid in enumerate(subject_ids):
                start = rnd.randrange(len(pairs))
                step = rnd.choice(STEPS)  # coprime with 40 → distinct pairs
                for m in range(per_subject):
                    k = (start + m * step) % len(pairs)
                    given = (j + m) % 10 != 0
                    if given and m == 0 and rnd.random() < sample_p:
                        i, p = pairs[k]
                        sample.append((sid, str(operators[i]), p))
                    n += 1
                    yield f"{run}-c000-{n:012x}\t{sid}\t{tails[(k, given)]}"

        n_consents = _copy_lines(
            cur,
            "consent",
            [
                "id",
                "subject_id",
                "operator_id",
                "template_id",
                "purpose_key",
                "categories",
                "actions",
                "form",
                "state",
                "age_rule",
                "signatures",
                "requested_at",
                "request_expires_at",
                "given_at",
                "valid_from",
                "valid_until",
                "ended_at",
                "last_seq",
                "last_hash",
                "updated_at",
            ],
            consents(),
        )

        name = _esc(json.dumps({"last": "Фамилия", "first": "Имя"}, ensure_ascii=False))
        grades = _esc(json.dumps([{"math": 5}, {"physics": 4}]))
        sup = str(supplier)

        def items():
            for n, sid in enumerate(subject_ids):
                yield f"{run}-a000-{n:012x}\t{sid}\tperson.fullname\t{sup}\t{name}\t{ts}"
                yield f"{run}-b000-{n:012x}\t{sid}\teducation.grades\t{sup}\t{grades}\t{ts}"

        _copy_lines(
            cur,
            "consent_vault_item",
            ["id", "subject_id", "category_key", "supplier_id", "value_json", "updated_at"],
            items(),
        )
        loaded = time.monotonic() - t0
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute(
            "CREATE INDEX ix_consent_gate ON consent (subject_id, operator_id, purpose_key)"
        )
        cur.execute("CREATE INDEX ix_consent_subject_id ON consent (subject_id)")
        cur.execute(
            "CREATE INDEX ix_consent_vault_item_subject_id ON consent_vault_item (subject_id)"
        )
        cur.execute(
            "ALTER TABLE consent_vault_item ADD CONSTRAINT uq_consent_vault_item "
            "UNIQUE (subject_id, category_key, supplier_id)"
        )
        conn.commit()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE person")
        conn.execute("VACUUM ANALYZE consent")
        conn.execute("VACUUM ANALYZE consent_vault_item")
        # write the loaded pages out now: otherwise the next timed checkpoint (5 min) flushes
        # gigabytes in the middle of the measurement (seen: p99 of 1.8 s)
        with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
            conn.execute("CHECKPOINT")
    return {
        "subjects": subjects,
        "consents": n_consents,
        "operators": operators,
        "supplier": supplier,
        "sample": sample,
        "load_seconds": loaded,
        "total_seconds": time.monotonic() - t0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("--subjects", type=int, default=10_000)
    ap.add_argument("--per-subject", type=int, default=10)
    args = ap.parse_args()
    info = seed(args.url, args.subjects, args.per_subject)
    print(
        f"seeded {info['subjects']} subjects, {info['consents']} consents in "
        f"{info['total_seconds']:.1f} s (COPY {info['load_seconds']:.1f} s)"
    )


if __name__ == "__main__":
    main()
