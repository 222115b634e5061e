"""The summary table of ``make bench`` (``bench/summary.py``): built from the benches' result
files, with the statistics computed from their raw values rather than taken on trust."""

from __future__ import annotations

import json
from pathlib import Path

from bench import summary


def _write(directory: Path, name: str, rows: list[dict], **conditions) -> None:
    body = {"name": name, "conditions": conditions, "rows": rows}
    (directory / f"{name}.json").write_text(json.dumps(body, ensure_ascii=False))


def test_two_result_files_make_one_table(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "token",
        [
            {
                "figure": "client_credentials token",
                "unit": "req/s",
                "rounds": [900.0, 1200.0, 1000.0],  # median 1000, not the mean nor the last
                "p99": 12.5,
                "peer": "node-oidc-provider",
                "peer_rounds": [520.0, 500.0, 480.0],  # median 500
                "cpu_ms_per_op": 0.75,
            }
        ],
        cpus=2,
        load_before=1.0,
        load_after=3.5,
        seconds=61,
    )
    latencies = [float(i) for i in range(1, 201)]  # 1..200 ms: nearest-rank p99 is 198
    _write(
        tmp_path,
        "audit",
        [
            {
                "figure": "single append",
                "unit": "ms",
                "better": "lower",
                "median": 2.0,
                "latencies_ms": latencies,
                "peer": "plain insert",
                "peer_median": 1.0,
            },
            {"figure": "verify", "unit": "events/s", "median": 50_000.0},
        ],
    )
    _write(tmp_path, "summary", [{"figure": "stale", "unit": "x", "median": 1}])  # not an input

    text = summary.write(tmp_path)

    built = json.loads((tmp_path / "summary.json").read_text())
    rows = {(r["bench"], r["figure"]): r for r in built["rows"]}
    assert set(rows) == {
        ("audit", "single append"),
        ("audit", "verify"),
        ("token", "client_credentials token"),
    }
    token = rows[("token", "client_credentials token")]
    assert token["median"] == 1000.0
    assert token["peer_median"] == 500.0
    assert token["ratio"] == 2.0
    assert token["p99"] == 12.5
    append = rows[("audit", "single append")]
    assert append["p99"] == 198.0
    assert "latencies_ms" not in append
    assert append["ratio"] == 2.0
    assert rows[("audit", "verify")]["ratio"] is None

    assert text == (tmp_path / "summary.md").read_text()
    lines = text.splitlines()
    assert lines[0].startswith("| bench | figure | median | p99 ms | peer |")
    token_line = (
        "| token | client_credentials token | 1,000 req/s | 12.5 | node-oidc-provider "
        "| 500 req/s | 2.00 | 0.75 |"
    )
    assert token_line in lines
    assert "| audit | single append | 2.00 ms | 198 | plain insert | 1.00 ms | 2.00 | – |" in lines
    assert any(line.startswith("- `token`: 2 CPUs, load 1.0 → 3.5, 61 s") for line in lines)


def test_percentile_is_an_observed_value() -> None:
    assert summary.percentile([5.0], 99) == 5.0
    assert summary.percentile([3.0, 1.0, 2.0, 4.0], 50) == 2.0
    assert summary.percentile([float(i) for i in range(1, 101)], 99) == 99.0
