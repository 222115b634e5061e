"""Verification accuracy on a set of labelled pairs: what operators run before going live.

``propusk biometrics evaluate PAIRS_CSV`` reads rows ``file_a,file_b,same`` (paths relative to
the CSV; ``same`` is 1 or 0), runs the production pipeline (the same loader, detector and
encoder as exam checks) on every image once, and reports FMR, FNMR and failure-to-acquire at the
configured threshold, with every pair's distance so the threshold can be re-checked.

Failure to acquire: an image in which the pipeline does not find exactly one face (unreadable,
no face, several faces). Pairs that involve such an image are reported with ``distance: null``
and are not counted in FMR/FNMR (they are counted in ``failure_to_acquire``).
"""

from __future__ import annotations

import csv
import itertools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from biometrics import engine


class PairsFileError(ValueError):
    """The pairs CSV is malformed (message names the line)."""


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    same: bool


def read_pairs(path: Path) -> list[Pair]:
    """Parse ``file_a,file_b,same`` rows; a header row is allowed."""
    pairs: list[Pair] = []
    with path.open(newline="", encoding="utf-8") as fh:
        for lineno, row in enumerate(csv.reader(fh), start=1):
            if not row or not "".join(row).strip() or row[0].startswith("#"):
                continue
            if lineno == 1 and row[0].strip().lower() == "file_a":
                continue
            if len(row) != 3 or row[2].strip() not in ("0", "1"):
                raise PairsFileError(f"line {lineno}: expected file_a,file_b,same(0|1)")
            pairs.append(Pair(row[0].strip(), row[1].strip(), row[2].strip() == "1"))
    if not pairs:
        raise PairsFileError("no pairs in the file")
    return pairs


def acquire(path: Path) -> tuple[np.ndarray | None, str | None]:
    """One image through the production pipeline → (encoding, None) or (None, reason)."""
    try:
        img = engine.load_image(path.read_bytes())
    except FileNotFoundError:
        return None, "missing_file"
    except engine.ImageRejected as exc:
        return None, exc.code
    faces = engine.analyze(img).faces
    if len(faces) != 1:
        return None, "no_face" if not faces else "several_faces"
    return faces[0].encoding, None


def evaluate(pairs: list[Pair], base: Path, threshold: float) -> dict[str, Any]:
    """Run every pair; returns the report (JSON-ready)."""
    files = sorted({p.a for p in pairs} | {p.b for p in pairs})
    acquired = {f: acquire(base / f) for f in files}
    rows: list[dict[str, Any]] = []
    genuine = impostor = false_match = false_non_match = 0
    for pair in pairs:
        (ea, ra), (eb, rb) = acquired[pair.a], acquired[pair.b]
        row: dict[str, Any] = {"a": pair.a, "b": pair.b, "same": pair.same}
        if ea is None or eb is None:
            row.update(distance=None, failure=ra or rb)
            rows.append(row)
            continue
        d = engine.distance(ea, eb)
        match = d <= threshold
        row.update(distance=round(d, 4), match=match)
        rows.append(row)
        if pair.same:
            genuine += 1
            false_non_match += not match
        else:
            impostor += 1
            false_match += match
    failed = sorted(f for f, (_, reason) in acquired.items() if reason)
    return {
        "threshold": threshold,
        "engine": engine.ENGINE_VERSION,
        "pairs": len(pairs),
        "genuine_pairs": genuine,
        "impostor_pairs": impostor,
        "false_matches": false_match,
        "false_non_matches": false_non_match,
        "fmr": false_match / impostor if impostor else None,
        "fnmr": false_non_match / genuine if genuine else None,
        "failure_to_acquire": len(failed),
        "failed_images": {f: acquired[f][1] for f in failed},
        "max_genuine_distance": _extreme(rows, True, max),
        "min_impostor_distance": _extreme(rows, False, min),
        "distances": rows,
    }


def _extreme(rows: list[dict[str, Any]], same: bool, fn) -> float | None:
    values = [r["distance"] for r in rows if r["same"] is same and r["distance"] is not None]
    return fn(values) if values else None


def labelled_pairs(labels_csv: Path) -> list[Pair]:
    """All genuine and impostor pairs of a ``labels.csv`` (file,person,...): single-face rows.

    Rows whose person is not a plain identifier (``MULTI(...)``, ``UNLABELLED(...)``, partial
    faces) are left out: they are loader/detector cases, not identities.
    """
    with labels_csv.open(newline="", encoding="utf-8") as fh:
        labelled = [
            (r["file"], r["person"])
            for r in csv.DictReader(fh)
            if r["person"].replace("_", "").isalnum() and r["person"].islower()
        ]
    return [Pair(fa, fb, pa == pb) for (fa, pa), (fb, pb) in itertools.combinations(labelled, 2)]


def write_pairs(pairs: list[Pair], path: Path, images_dir: Path) -> None:
    """Write a pairs CSV whose paths are relative to the CSV itself (as ``evaluate`` reads)."""

    def rel(name: str) -> str:
        return os.path.relpath((images_dir / name).resolve(), path.resolve().parent)

    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file_a", "file_b", "same"])
        for p in pairs:
            writer.writerow([rel(p.a), rel(p.b), int(p.same)])
