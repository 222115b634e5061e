"""Real developer-set photos and honest synthetic variants for the biometrics tests.

The developer set has no video. Head turns come from real photos of the same person in which
the head is turned (``obama_4`` to his left, ``obama_2`` to his right) and from horizontal flips.
Closed eyes are synthetic: the eye region of a real photo is warped vertically so that the lids
close over the eye (``close_eyes``); landmarks then give a lower eye aspect ratio.
"""

from __future__ import annotations

import io
from functools import cache

import numpy as np
from PIL import Image

from biometrics import engine
from tests.support.settings import FACES


def raw(name: str) -> bytes:
    return (FACES / name).read_bytes()


@cache
def image(name: str) -> np.ndarray:
    return engine.load_image(raw(name))


def jpeg(img: np.ndarray, quality: int = 92) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def png(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def flipped(name: str) -> np.ndarray:
    return np.ascontiguousarray(image(name)[:, ::-1])


def close_eyes(img: np.ndarray, keep: float = 0.15) -> np.ndarray:
    """Warp each eye region so the lids meet (keeps ``keep`` of the eye's height)."""
    analysis = engine.analyze(
        img, encode_faces=False, with_landmarks=True, config=engine.SWEEP_CONFIG
    )
    lm = analysis.faces[0].landmarks68
    out = img.copy()
    for eye in (lm[36:42], lm[42:48]):
        (x0, y0), (x1, y1) = eye.min(0), eye.max(0)
        w, h = x1 - x0, max(y1 - y0, 2.0)
        top, bottom = int(y0 - 1.2 * h), int(y1 + 1.2 * h)
        left, right = int(x0 - 0.25 * w), int(x1 + 0.25 * w) + 1
        c, half = (y0 + y1) / 2, keep * h / 2
        rows = np.arange(top, bottom)
        src = np.interp(rows, [top, c - half, c + half, bottom], [top, y0, y1, bottom])
        src = np.clip(np.round(src).astype(int), 0, img.shape[0] - 1)
        out[top:bottom, left:right] = img[src][:, left:right]
    return out
