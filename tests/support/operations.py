"""The operations of the app's OpenAPI document with the policy each route declares, and what
``policies/policy.csv`` gives each role: the plans of the API fuzzers
(``tests/propusk/test_api_robustness.py``, ``tests/security/test_fuzz_api.py``), known at
collection time (building the document needs no database)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from propusk.runtime import build_runtime
from tests.support.settings import make_settings


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    public: bool
    policy: tuple[str, str] | None  # (object, action) of the route's require()


def operations() -> list[Operation]:
    """Every operation of the document, in a stable order (set order varies per process)."""
    from policies.deps import iter_routes
    from propusk.app import create_app

    runtime = build_runtime(make_settings("sqlite://"))
    try:
        app = create_app(runtime=runtime)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate operation ids of GET/POST routes
            doc = app.openapi()
    finally:
        runtime.dispose()
    policies = {(m, r.path): r.policy for r in iter_routes(app) for m in r.methods}
    ops = [
        Operation(m.upper(), p, bool(op.get("x-public")), policies.get((m.upper(), p)))
        for p, item in doc["paths"].items()
        for m, op in item.items()
        if m in ("get", "put", "post", "delete", "patch")
    ]
    return sorted(ops, key=lambda op: (op.path, op.method))


def granted() -> dict[str, set[tuple[str, str]]]:
    """(object, action) pairs policies/policy.csv gives each role."""
    import policies

    out: dict[str, set[tuple[str, str]]] = {}
    for row in (Path(policies.__file__).parent / "policy.csv").read_text().splitlines():
        cells = [c.strip() for c in row.split(",")]
        if len(cells) >= 5 and cells[0] == "p":
            out.setdefault(cells[1], set()).add((cells[3], cells[4]))
    return out


def fuzz_settings(examples: int):
    """Hypothesis settings of a bounded fuzz run: reproducible, no example files, no shrinking
    (the failing case is reported as it was)."""
    from hypothesis import HealthCheck, Phase, settings

    return settings(
        max_examples=examples,
        derandomize=True,  # reproducible: the same cases on every run
        database=None,  # no example files (the suite runs in parallel)
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: bounded
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
