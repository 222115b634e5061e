"""The one table of ``make bench``: every ``bench/results/<name>.json`` into ``summary.md`` and
``summary.json`` (both under ``bench/results/``), printed at the end of ``bench/run.sh``.

A result file is what ``bench.common.Results`` writes: the benchmark's name, the conditions of
the run (machine, load average before and after, duration, commit) and its rows. A row names
one figure (``figure``, ``unit``, ``better``: ``higher`` or ``lower``) and carries its values:

- ``rounds``: the figure of each round; the table's median is their median (else ``median``);
- ``latencies_ms`` (optional, small runs) or ``p99``: the 99th percentile latency of one
  operation in milliseconds, whatever the figure's unit (nearest rank);
- ``peer``, ``peer_rounds``/``peer_median``: the figure of the thing compared against, measured in
  the same run; ``ratio`` is always ours / the peer's median (so, for a ``lower`` figure, below 1
  means we are faster);
- ``cpu_ms_per_op``: CPU milliseconds of the measured process(es) per operation.

The statistics are computed here, once, so the table never depends on how a bench rounded.

    .venv/bin/python bench/summary.py [RESULTS_DIR]
"""

from __future__ import annotations

import json
import math
import statistics
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
SUMMARY = "summary"
COLUMNS = ("bench", "figure", "median", "p99 ms", "peer", "peer median", "ratio", "CPU ms/op")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100): the smallest value with at least q % of the
    values at or below it — an observed latency, never an interpolation between two."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)


def settle_row(row: dict) -> dict:
    """A row with its median, p99 and ratio computed from its raw values where it has them."""
    out = dict(row)
    if out.get("rounds"):
        out["median"] = median(out["rounds"])
    if out.get("latencies_ms"):
        out["p99"] = percentile(out["latencies_ms"], 99)
    out.pop("latencies_ms", None)
    if out.get("peer_rounds"):
        out["peer_median"] = median(out["peer_rounds"])
    ours, theirs = out.get("median"), out.get("peer_median")
    out["ratio"] = ours / theirs if ours is not None and theirs else None
    return out


def load(results_dir: Path) -> list[dict]:
    """Every bench's result file (not the summary itself), in name order."""
    files = sorted(p for p in results_dir.glob("*.json") if p.stem != SUMMARY)
    return [json.loads(p.read_text()) for p in files]


def build(results: list[dict]) -> dict:
    """The summary: every row settled, with the name of its bench, and each bench's
    conditions."""
    rows, conditions = [], {}
    for result in results:
        conditions[result["name"]] = result.get("conditions", {})
        for row in result.get("rows", []):
            rows.append({"bench": result["name"], **settle_row(row)})
    return {"rows": rows, "conditions": conditions}


def _num(value: float | None) -> str:
    if value is None:
        return "–"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 0.1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def cells(row: dict) -> list[str]:
    unit = row.get("unit", "")
    ratio = row.get("ratio")
    return [
        row["bench"],
        row["figure"],
        f"{_num(row.get('median'))} {unit}".strip(),
        _num(row.get("p99")),
        row.get("peer") or "–",
        f"{_num(row.get('peer_median'))} {unit}".strip() if row.get("peer_median") else "–",
        f"{ratio:.2f}" if ratio is not None else "–",
        _num(row.get("cpu_ms_per_op")),
    ]


def markdown(summary: dict) -> str:
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join(" --- " for _ in COLUMNS) + "|",
    ]
    lines += ["| " + " | ".join(cells(row)) + " |" for row in summary["rows"]]
    notes = []
    for name, cond in summary["conditions"].items():
        if not cond:
            continue
        load = cond.get("load_before"), cond.get("load_after")
        parts = [
            f"{cond.get('cpus', '?')} CPUs",
            f"load {load[0]:.1f} → {load[1]:.1f}" if None not in load else None,
            f"{cond['seconds']:.0f} s" if "seconds" in cond else None,
            cond.get("started"),
            cond.get("commit"),
            cond.get("note"),
        ]
        notes.append(f"- `{name}`: " + ", ".join(p for p in parts if p))
    if notes:
        head = "Conditions (the machine's 1-minute load average before → after):"
        lines += ["", head, *notes]
    return "\n".join(lines) + "\n"


def write(results_dir: Path = RESULTS) -> str:
    summary = build(load(results_dir))
    (results_dir / f"{SUMMARY}.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=1) + "\n"
    )
    text = markdown(summary)
    (results_dir / f"{SUMMARY}.md").write_text(text)
    return text


def main() -> None:
    results_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS
    print(write(results_dir), end="")


if __name__ == "__main__":
    main()
