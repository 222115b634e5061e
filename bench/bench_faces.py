"""Face verification cost per 640×480 frame, and accuracy, against plain face_recognition.

Ours: ``biometrics.engine`` (JPEG decode, cascaded HOG detection on a downscaled copy with
upsample 0, 5-point landmarks, ResNet encoding with 1 jitter, distance to the template).
Peer, same run, same decoded frames: ``face_recognition.face_locations`` (HOG, upsample 1) +
``face_encodings`` with their defaults + ``face_distance``.

Frames: every single-face photo of the developer set letterboxed into 640×480 (a webcam frame).
Accuracy: every genuine and impostor pair of those frames, at the shipped threshold, for both
pipelines; plus the production pipeline on the original photos (``biometrics.evaluate``).

Pinned to one core. ``BENCH_FACES_REPEAT`` (default 3) repeats the timing pass per frame.
Usage: ``.venv/bin/python bench/bench_faces.py``
Rows for the summary table: ``bench/results/faces.json`` (ms per frame; CPU ms per frame of this
process).
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FACES = Path(os.environ.get("PROPUSK_FACES_DIR", ROOT.parent / "shared" / "faces"))
REPEAT = int(os.environ.get("BENCH_FACES_REPEAT", "3"))

from bench.common import Results  # noqa: E402
from biometrics import engine  # noqa: E402
from biometrics.evaluate import evaluate, labelled_pairs  # noqa: E402
from propusk.settings import Settings  # noqa: E402

RESULTS = Results("faces")


def _jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def letterboxed_frame(path: Path) -> bytes:
    """The whole photo letterboxed into 640×480: small faces, the detector's fallback path."""
    img = Image.open(path).convert("RGB")
    img.thumbnail((640, 480), Image.Resampling.BILINEAR)
    canvas = Image.new("RGB", (640, 480), (30, 30, 30))
    canvas.paste(img, ((640 - img.width) // 2, (480 - img.height) // 2))
    return _jpeg(canvas)


def webcam_frame(path: Path) -> bytes:
    """A 4:3 crop around the face, face ≈ 40 % of the frame height (a laptop webcam at
    ~60 cm), resized to 640×480. The face is located once with the sweep detector (untimed)."""
    img = engine.load_image(path.read_bytes())
    with engine.models() as m:
        boxes, _ = engine.detect(m, img, engine.SWEEP_CONFIG)
    box = max(boxes, key=lambda b: b.height)
    h = box.height / 0.40
    w = h * 4 / 3
    cx, cy = (box.left + box.right) / 2, (box.top + box.bottom) / 2
    crop = Image.fromarray(img).crop((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
    return _jpeg(crop.resize((640, 480), Image.Resampling.BILINEAR))


def ours(frame: bytes, template: np.ndarray) -> tuple[dict[str, float], list[np.ndarray]]:
    t0 = time.perf_counter()
    img = engine.load_image(frame)
    t1 = time.perf_counter()
    analysis = engine.analyze(img)
    t2 = time.perf_counter()
    for face in analysis.faces:
        engine.distance(template, face.encoding)
    t3 = time.perf_counter()
    steps = {
        "decode": (t1 - t0) * 1000,
        "detect": analysis.timings["detect_ms"],
        "encode": analysis.timings["encode_ms"],
        "compare": (t3 - t2) * 1000,
    }
    return steps, [f.encoding for f in analysis.faces]


def peer(frame: bytes, template: np.ndarray) -> tuple[dict[str, float], list[np.ndarray]]:
    import face_recognition

    t0 = time.perf_counter()
    img = face_recognition.load_image_file(io.BytesIO(frame))
    t1 = time.perf_counter()
    boxes = face_recognition.face_locations(img)
    t2 = time.perf_counter()
    encodings = face_recognition.face_encodings(img, boxes)
    t3 = time.perf_counter()
    if encodings:
        face_recognition.face_distance(encodings, template)
    t4 = time.perf_counter()
    steps = {
        "decode": (t1 - t0) * 1000,
        "detect": (t2 - t1) * 1000,
        "encode": (t3 - t2) * 1000,
        "compare": (t4 - t3) * 1000,
    }
    return steps, encodings


def accuracy(encs: dict[str, tuple[str, list[np.ndarray]]], threshold: float) -> dict:
    fm = fnm = genuine = impostor = 0
    max_genuine, min_impostor = 0.0, 9.9
    fta = sum(1 for _, e in encs.values() if len(e) != 1)
    ok = {f: (p, e[0]) for f, (p, e) in encs.items() if len(e) == 1}
    for (_, (pa, ea)), (_, (pb, eb)) in itertools.combinations(ok.items(), 2):
        d = engine.distance(ea, eb)
        match = d <= threshold
        if pa == pb:
            max_genuine = max(max_genuine, d)
            genuine += 1
            fnm += not match
        else:
            impostor += 1
            fm += match
            min_impostor = min(min_impostor, d)
    return {
        "genuine": genuine,
        "impostor": impostor,
        "FMR": fm / max(impostor, 1),
        "FNMR": fnm / max(genuine, 1),
        "FTA": fta,
        "max_genuine": max_genuine,
        "min_impostor": min_impostor,
    }


def summarize(name: str, runs: list[dict[str, float]]) -> list[float]:
    totals = [sum(r.values()) for r in runs]
    total = statistics.median(totals)
    shares = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    parts = ", ".join(f"{k} {v:.1f} ms ({100 * v / total:.0f}%)" for k, v in shares.items())
    print(f"{name:>18}: median {total:.1f} ms/frame  [{parts}]")
    return totals


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import face_recognition  # noqa: F401  (loads its models now, outside the timings)
    engine.warm_up()
    threshold = Settings().face_threshold
    pairs = labelled_pairs(FACES / "labels.csv")
    files = sorted({p.a for p in pairs} | {p.b for p in pairs})
    with (FACES / "labels.csv").open() as fh:
        persons = {r["file"]: r["person"] for r in csv.DictReader(fh)}
    print(f"{len(files)} photos from {FACES}, one core, {REPEAT} passes, threshold {threshold}")
    for label, make in (("webcam-like crops", webcam_frame), ("letterboxed", letterboxed_frame)):
        print(f"--- 640x480 frames: {label}")
        frames = {f: make(FACES / f) for f in files}
        run_set(frames, persons, threshold, label)
    report = evaluate(pairs, FACES, threshold)
    print(
        f"--- original photos, production pipeline (biometrics.evaluate): FMR {report['fmr']:.4f}, "
        f"FNMR {report['fnmr']:.4f}, FTA {report['failure_to_acquire']}, "
        f"max genuine {report['max_genuine_distance']}, "
        f"min impostor {report['min_impostor_distance']}"
    )
    RESULTS.write()


def run_set(frames: dict[str, bytes], persons: dict[str, str], threshold: float, label: str):
    template = np.zeros(128)
    runs: dict[str, list[dict[str, float]]] = {"ours": [], "face_recognition": []}
    encs: dict[str, dict] = {"ours": {}, "face_recognition": {}}
    cpu = {"ours": 0.0, "face_recognition": 0.0}
    for _ in range(REPEAT):
        for f, frame in frames.items():
            for name, fn in (("ours", ours), ("face_recognition", peer)):
                cpu0 = time.process_time()
                steps, found = fn(frame, template)
                cpu[name] += time.process_time() - cpu0
                runs[name].append(steps)
                encs[name][f] = (persons[f], found)
    totals_ours = summarize("ours", runs["ours"])
    totals_peer = summarize("face_recognition", runs["face_recognition"])
    t_ours, t_peer = statistics.median(totals_ours), statistics.median(totals_peer)
    print(f"{'speed-up':>18}: {t_peer / t_ours:.2f}x  (target <= 120 ms/frame on one core)")
    accuracies = {}
    for name in ("ours", "face_recognition"):
        acc = accuracies[name] = accuracy(encs[name], threshold)
        print(
            f"{name:>18}: {acc['genuine']} genuine / {acc['impostor']} impostor pairs, "
            f"FMR {acc['FMR']:.4f}, FNMR {acc['FNMR']:.4f}, FTA {acc['FTA']}, "
            f"max genuine {acc['max_genuine']:.3f}, min impostor {acc['min_impostor']:.3f}"
        )
    mine, theirs = accuracies["ours"], accuracies["face_recognition"]
    RESULTS.add(
        f"face verification per 640x480 frame ({label}), one core",
        "ms",
        better="lower",
        median=t_ours,
        latencies_ms=totals_ours,
        peer="face_recognition defaults (HOG upsample 1)",
        peer_median=t_peer,
        cpu_ms_per_op=cpu["ours"] * 1e3 / len(totals_ours),
        note=(
            f"FMR/FNMR/FTA ours {mine['FMR']:.3f}/{mine['FNMR']:.3f}/{mine['FTA']}, "
            f"peer {theirs['FMR']:.3f}/{theirs['FNMR']:.3f}/{theirs['FTA']}"
        ),
    )


if __name__ == "__main__":
    main()
