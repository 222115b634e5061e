"""Liveness against flat pictures: attack acceptance and genuine pass rates on the developer set.

Genuine sequences: several real photos of one person (Obama, Lacamoire, Harington: the people of
the set with both frontal and really turned photos), frontal between real turns, the blink an
eyelid warp on a frontal photo (``tests/biometrics/spoofing.py``). Attacks: one photo of the
enrolled person per sequence, the turns faked by a 2-D warp (perspective tilt of the picture,
affine shear, thin-plate warp of the middle of the face), the blink by the same eyelid warp,
shown through a virtual camera, as a print or on a screen. Every sequence is judged by the
production code (``liveness.observe`` + ``liveness.judge``, template from the photo itself);
"before" is the same judgement without the flat-picture test (a sequence refused only as
``flat_picture`` passed before).

Bounded: ``BENCH_LIVENESS_SOURCES`` attack photos (default 4 of 12, from
``BENCH_LIVENESS_FIRST``), ``BENCH_LIVENESS_SEEDS`` genuine sequences per person (default 3: one
taker's three attempts; 0: none). About 1 s per frame on
one loaded core. Usage: ``.venv/bin/python bench/bench_liveness.py``
Rows for the summary table: ``bench/results/liveness.json`` (rates in %, CPU ms per sequence).
"""

from __future__ import annotations

import collections
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SOURCES = int(os.environ.get("BENCH_LIVENESS_SOURCES", "4"))
FIRST = int(os.environ.get("BENCH_LIVENESS_FIRST", "0"))  # to split a full run over processes
# 1: the attacks perform turn-only challenges (the synthetic eyelid warp fails on many photos,
# which refuses an attack before the flat-picture test is reached)
TURNS_ONLY = os.environ.get("BENCH_LIVENESS_TURNS_ONLY") == "1"
SEEDS = int(os.environ.get("BENCH_LIVENESS_SEEDS", "3"))

from bench.common import Results  # noqa: E402
from biometrics import liveness  # noqa: E402
from biometrics.checks import MAX_LIVENESS_ATTEMPTS  # noqa: E402
from tests.biometrics import spoofing  # noqa: E402

CHALLENGES = (
    ("turn_left", "blink", "turn_right"),
    ("turn_right", "blink", "turn_left"),
    ("blink", "turn_left", "blink"),
    ("turn_right", "turn_left", "blink"),
)


def _turn_fits(obs: list[liveness.Observation]) -> list[float]:
    fit = liveness.flatness(obs)
    turned = [i for i, o in enumerate(obs) if o.yaw is not None and abs(o.yaw) >= liveness.TURN_YAW]
    return [f for f in (fit(i) for i in turned) if f is not None]


def _run(seq: spoofing.Sequence) -> tuple[liveness.LivenessResult, list[float]]:
    verdict, obs = spoofing.judge(seq, spoofing.template(seq.enrolled))
    return verdict, _turn_fits(obs)


def main() -> None:
    results = Results("liveness")
    started = time.perf_counter()
    cpu0 = time.process_time()
    rows: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    fits: dict[str, list[float]] = collections.defaultdict(list)
    attempts: list[bool] = []
    for person in spoofing.GENUINE:
        passed_any = False
        for seed in range(SEEDS):
            seq = spoofing.genuine(person, CHALLENGES[seed % len(CHALLENGES)], seed=seed)
            verdict, turn_fits = _run(seq)
            fits["genuine"] += turn_fits
            row = rows["genuine"]
            row["sequences"] += 1
            row["passed"] += verdict.passed
            row[verdict.reason or "ok"] += 1
            passed_any |= verdict.passed
            if (seed + 1) % MAX_LIVENESS_ATTEMPTS == 0 or seed + 1 == SEEDS:
                attempts.append(passed_any)
                passed_any = False
    for n, source in enumerate(spoofing.ATTACK_SOURCES[FIRST : FIRST + SOURCES], start=FIRST):
        for warp in spoofing.WARPS:
            for medium in spoofing.MEDIA:
                actions = CHALLENGES[n % len(CHALLENGES)]
                if TURNS_ONLY:
                    actions = tuple(a for a in actions if a != "blink") or ("turn_left",)
                seq = spoofing.attack(source, actions, warp, medium, seed=n)
                verdict, turn_fits = _run(seq)
                fits[warp] += turn_fits
                for kind in (f"{warp}/{medium}", "all attacks"):
                    row = rows[kind]
                    row["sequences"] += 1
                    row["passed"] += verdict.passed
                    row["before"] += verdict.passed or verdict.reason == "flat_picture"
                    row[verdict.reason or "ok"] += 1

    print(f"liveness on the developer set ({time.perf_counter() - started:.0f} s)")
    cpu_per_sequence = (
        (time.process_time() - cpu0)
        * 1e3
        / sum(rows[k]["sequences"] for k in ("genuine", "all attacks") if k in rows)
    )
    head = (
        f"{'sequences':34s} {'n':>4s} {'accepted':>9s} {'before':>7s} {'flat':>5s}  other refusals"
    )
    print(head)
    for kind, row in rows.items():
        n = row["sequences"]
        other = {
            k: v
            for k, v in row.items()
            if k not in {"sequences", "passed", "before", "flat_picture", "ok"}
        }
        before = f"{row['before'] / n:7.0%}" if kind != "genuine" else "      -"
        print(
            f"{kind:34s} {n:4d} {row['passed'] / n:9.0%} {before} {row['flat_picture']:5d}  "
            + ", ".join(f"{k} {v}" for k, v in sorted(other.items()))
        )
    within = sum(attempts) / len(attempts) if attempts else float("nan")
    print(
        f"genuine takers passing within {MAX_LIVENESS_ATTEMPTS} attempts: {within:.0%}"
        f" ({len(attempts)} takers)"
    )
    attacks, genuine = rows["all attacks"], rows["genuine"]
    if attacks["sequences"]:
        results.add(
            f"flat-picture attacks accepted ({attacks['sequences']} sequences)",
            "%",
            better="lower",
            median=100 * attacks["passed"] / attacks["sequences"],
            peer="the same judgement without the flat-picture test",
            peer_median=100 * attacks["before"] / attacks["sequences"],
            cpu_ms_per_op=cpu_per_sequence,
            note="CPU per sequence (genuine and attacks)",
        )
    if genuine["sequences"]:
        results.add(
            f"genuine sequences passed ({genuine['sequences']} sequences)",
            "%",
            median=100 * genuine["passed"] / genuine["sequences"],
            cpu_ms_per_op=cpu_per_sequence,
            note=f"takers passing within {MAX_LIVENESS_ATTEMPTS} attempts: {within:.0%}",
        )
    results.write()
    print(f"planar fit of turned frames (flat ≥ {liveness.FLAT_FIT}): min / median / max")
    for kind, values in fits.items():
        if values:
            v = np.array(values)
            print(
                f"  {kind:12s} {v.min():.3f} / {statistics.median(values):.3f} / {v.max():.3f}"
                f"  ({len(values)} frames, {np.mean(v >= liveness.FLAT_FIT):.0%} flat)"
            )


if __name__ == "__main__":
    main()
