"""The face engine: safe image loading, HOG detection, 128-d encodings, comparison.

Built on dlib's models as ``face_recognition`` ships them (HOG frontal face detector, the 5- and
68-point shape predictors, the ResNet face encoder), but called directly so that:

* the models load lazily, once per process, and never on app start-up;
* detection runs on a downscaled copy of the frame (``detect_side``) with upsample 0, falling
  back to the full frame and then to upsample 1 only when nothing was found — at 640×480 this
  costs ≈ 11 ms instead of ≈ 135 ms for ``face_locations`` with its default upsample 1
  (see ``bench/bench_faces.py``), with the same verdicts on the developer set; the encoder
  (≈ 100 ms, dlib without BLAS) is then ≈ 90 % of a frame;
* the encoding uses the 5-point landmarks (``face_recognition``'s "small" model, its default for
  encodings; the 68-point model gives the same speed but moves encodings by ≈ 0.13 and is used
  only for liveness), ``num_jitters=1``;
* each worker thread borrows a copy of the dlib objects (the ResNet is not thread-safe); at most
  one copy per core (≈ 130 MB each, mostly the 68-point predictor).
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import queue
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import dlib
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

ENGINE_VERSION = "dlib-resnet-v1/hog/5pt"
ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})


class ImageRejected(ValueError):
    """An upload that is not a usable image; ``code`` is a stable reason, ``status`` an HTTP one."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class EngineConfig:
    """Limits and detector choices; defaults measured on the developer face set."""

    max_bytes: int = 8 * 1024 * 1024
    # Pixel budget, read from the header before anything is decoded: a solid-colour PNG of
    # 40 Mpx is ~125 KB on the wire and ~120 MB of RGB (several times that while converting).
    # 16 Mpx admits a 4:3 phone photo up to 4608×3456 (≈ 48 MB RGB at most); the exam camera
    # sends 640×480. A side over ``max_dimension`` is refused too (no face photo is a banner).
    max_pixels: int = 16_000_000
    max_dimension: int = 6000
    max_side: int = 1280  # larger images are downscaled (README facts hold at 1280)
    detect_side: int = 320  # coarse pass: faces ≥ ~160 px of a 640×480 frame, ≈ 11 ms
    fallback_upsample: int = 1  # last pass when nothing was found (small or distant faces)


DEFAULT_CONFIG = EngineConfig()
# Enrolment photos, liveness frames and every few exam frames: the coarse pass at 640 finds
# faces ≥ ~80 px, so a second, smaller face behind the taker is not missed (≈ 33 ms at 640×480).
SWEEP_CONFIG = EngineConfig(detect_side=640)


@dataclass(frozen=True)
class Box:
    """A face rectangle in image pixels (``face_recognition`` order: top, right, bottom, left)."""

    top: int
    right: int
    bottom: int
    left: int

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left


@dataclass
class Face:
    box: Box
    encoding: np.ndarray | None = None
    landmarks68: np.ndarray | None = None  # (68, 2) float, only when asked for


@dataclass
class Analysis:
    """What one image yields: its faces and the milliseconds each step took."""

    width: int
    height: int
    faces: list[Face]
    timings: dict[str, float] = field(default_factory=dict)
    pixel_hash: str = ""


# ---------------------------------------------------------------- models (lazy, pooled)


def _model_file(name: str) -> str:
    """A model file of the ``face_recognition_models`` package, found without importing it:
    its ``__init__`` only locates these files through ``pkg_resources`` (deprecated, warns, and
    takes longer to import than dlib itself)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the face_recognition_models package is not installed")
    return os.path.join(spec.submodule_search_locations[0], "models", name)


class _Models:
    """One copy of the dlib objects; a thread uses one copy at a time."""

    def __init__(self) -> None:
        self.detector = dlib.get_frontal_face_detector()
        self.sp5 = dlib.shape_predictor(_model_file("shape_predictor_5_face_landmarks.dat"))
        self.sp68 = dlib.shape_predictor(_model_file("shape_predictor_68_face_landmarks.dat"))
        self.encoder = dlib.face_recognition_model_v1(
            _model_file("dlib_face_recognition_resnet_model_v1.dat")
        )
        self.dlib = dlib


_pool: queue.LifoQueue[_Models] = queue.LifoQueue()
_pool_lock = threading.Lock()
_pool_created = 0
_POOL_MAX = max(1, os.cpu_count() or 1)  # CPU-bound: more copies than cores only cost memory


@contextmanager
def models() -> Iterator[_Models]:
    """Borrow a model set: loaded on first use, at most ``_POOL_MAX`` copies per process."""
    global _pool_created
    try:
        m = _pool.get_nowait()
    except queue.Empty:
        with _pool_lock:
            create = _pool_created < _POOL_MAX
            if create:
                _pool_created += 1
        m = _Models() if create else _pool.get()
    try:
        yield m
    finally:
        _pool.put(m)


def warm_up() -> None:
    """Load one model set now (a server may call this after start-up)."""
    with models():
        pass


# ---------------------------------------------------------------- loading


def load_image(data: bytes, config: EngineConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Decode an upload into an RGB uint8 array, safely.

    Size and pixel limits are checked before decoding (``Image.open`` reads only the header,
    ``load`` decodes), so a decompression bomb costs a header parse; EXIF orientation is applied
    (phones store portrait photos rotated); alpha is composited on white (a 32-bit PNG); large
    images are downscaled to ``max_side`` because detection cost grows with pixels and nothing
    is gained above it.
    """
    if not data:
        raise ImageRejected("empty", "the upload is empty")
    if len(data) > config.max_bytes:
        raise ImageRejected(
            "too_large", f"image is larger than {config.max_bytes} bytes", status=413
        )
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check (far above our budget) must stop, not warn
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))  # lazy: reads the header only
            fmt, (w, h) = img.format, img.size
            if fmt not in ALLOWED_FORMATS:
                raise ImageRejected("unsupported_format", f"image format {fmt} is not accepted")
            if w * h > config.max_pixels or max(w, h) > config.max_dimension:
                raise ImageRejected("too_many_pixels", f"image has {w}×{h} pixels", status=413)
            img.load()  # the only decode, within the budget
    except ImageRejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected("not_an_image", "the upload is not a readable image") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected("too_many_pixels", "image has too many pixels", status=413) from exc
    return _normalise(img, config.max_side)


def _normalise(img: Image.Image, max_side: int) -> np.ndarray:
    img = ImageOps.exif_transpose(img)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        img = canvas
    elif img.mode != "RGB":
        img = img.convert("RGB")
    if max(img.size) > max_side:
        img = img.copy()
        img.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    return np.ascontiguousarray(np.asarray(img, dtype=np.uint8))


def pixel_hash(img: np.ndarray) -> str:
    """SHA-256 of the decoded pixels: the same picture re-encoded has the same hash."""
    h = hashlib.sha256(f"{img.shape}".encode())
    h.update(img.tobytes())
    return h.hexdigest()


# ---------------------------------------------------------------- detection and encoding


def _scaled(img: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    h, w = img.shape[:2]
    if max(h, w) <= side:
        return img, 1.0
    scale = side / max(h, w)
    small = Image.fromarray(img).resize(
        (max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BILINEAR
    )
    return np.asarray(small), scale


def _to_box(rect: Any, scale: float, width: int, height: int) -> Box:
    return Box(
        top=max(0, round(rect.top() / scale)),
        right=min(width, round(rect.right() / scale)),
        bottom=min(height, round(rect.bottom() / scale)),
        left=max(0, round(rect.left() / scale)),
    )


def detect(
    m: _Models, img: np.ndarray, config: EngineConfig = DEFAULT_CONFIG
) -> tuple[list[Box], str]:
    """Find faces with the cheapest pass that finds any; returns boxes and the pass used."""
    h, w = img.shape[:2]
    passes: list[tuple[str, int, int]] = [("coarse", config.detect_side, 0)]
    if max(h, w) > config.detect_side:
        passes.append(("full", max(h, w), 0))
    if config.fallback_upsample > 0:
        passes.append(("upsampled", min(max(h, w), 640), config.fallback_upsample))
    for name, side, upsample in passes:
        small, scale = _scaled(img, side)
        rects = m.detector(small, upsample)
        if len(rects):
            return [_to_box(r, scale, w, h) for r in rects], name
    return [], "none"


def _rect(m: _Models, box: Box) -> Any:
    return m.dlib.rectangle(box.left, box.top, box.right, box.bottom)


def encode(m: _Models, img: np.ndarray, box: Box) -> np.ndarray:
    shape = m.sp5(img, _rect(m, box))
    return np.asarray(m.encoder.compute_face_descriptor(img, shape, 1), dtype=np.float64)


def landmarks68(m: _Models, img: np.ndarray, box: Box) -> np.ndarray:
    shape = m.sp68(img, _rect(m, box))
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


def analyze(
    img: np.ndarray,
    *,
    encode_faces: bool = True,
    with_landmarks: bool = False,
    config: EngineConfig = DEFAULT_CONFIG,
) -> Analysis:
    """Detect every face; encode (and optionally landmark) each one. Timings in ms."""
    h, w = img.shape[:2]
    timings: dict[str, float] = {}
    with models() as m:
        t0 = time.perf_counter()
        boxes, used = detect(m, img, config)
        t1 = time.perf_counter()
        faces = [Face(box=b) for b in boxes]
        for face in faces:
            if encode_faces:
                face.encoding = encode(m, img, face.box)
            if with_landmarks:
                face.landmarks68 = landmarks68(m, img, face.box)
        t2 = time.perf_counter()
    timings["detect_ms"] = (t1 - t0) * 1000
    timings["encode_ms"] = (t2 - t1) * 1000
    result = Analysis(width=w, height=h, faces=faces, timings=timings)
    result.timings["pass_" + used] = 1.0
    return result


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two encodings (what ``face_distance`` computes)."""
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


def best_distance(templates: list[np.ndarray], probe: np.ndarray) -> float:
    """Distance of a probe to an enrolment: the closest of its 1–3 encodings."""
    return min(distance(t, probe) for t in templates)


# ---------------------------------------------------------------- template (de)serialisation


def pack_encodings(encodings: list[np.ndarray]) -> bytes:
    """Encodings → bytes for encryption (float32 is plenty: distances change < 1e-6)."""
    arr = np.stack([np.asarray(e, dtype="<f4") for e in encodings])
    return bytes([arr.shape[0]]) + arr.tobytes()


def unpack_encodings(blob: bytes) -> list[np.ndarray]:
    n = blob[0]
    arr = np.frombuffer(blob[1:], dtype="<f4").reshape(n, 128)
    return [row.astype(np.float64) for row in arr]
