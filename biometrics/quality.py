"""Quality checks for enrolment photos (and the same measures for exam frames).

An enrolment photo must show exactly one face, large enough, neither too dark nor blurred;
a rejection names the reason so the participant can take a better photo. The measures are
computed on the face region only (a dark background is fine), resized to a fixed size so that
sharpness does not depend on the photo's resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from biometrics.engine import Analysis, Box

MIN_FACE_PX = 80  # HOG's smallest window at upsample 0; smaller faces encode poorly
MIN_BRIGHTNESS = 50.0  # mean luma 0..255 of the face box
MAX_BRIGHTNESS = 235.0
MIN_SHARPNESS = 30.0  # Laplacian variance of the face box at 128×128, contrast-normalised
_PATCH = 128

REASONS = {
    "no_face": "no face found in the photo",
    "several_faces": "more than one face in the photo",
    "face_too_small": f"the face is smaller than {MIN_FACE_PX} pixels",
    "too_dark": "the face is too dark",
    "too_bright": "the face is overexposed",
    "blurred": "the face is blurred",
}


@dataclass(frozen=True)
class Quality:
    faces: int
    face_px: int = 0
    brightness: float = 0.0
    sharpness: float = 0.0
    reasons: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.reasons


def _face_patch(img: np.ndarray, box: Box) -> np.ndarray:
    crop = img[box.top : box.bottom, box.left : box.right]
    gray = Image.fromarray(crop).convert("L").resize((_PATCH, _PATCH), Image.Resampling.BILINEAR)
    return np.asarray(gray, dtype=np.float64)


def laplacian_variance(gray: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian: low when edges are soft (blur, defocus)."""
    lap = (
        -4 * gray[1:-1, 1:-1] + gray[:-2, 1:-1] + gray[2:, 1:-1] + gray[1:-1, :-2] + gray[1:-1, 2:]
    )
    return float(lap.var())


def measure(img: np.ndarray, box: Box) -> tuple[float, float]:
    """(brightness, sharpness) of one face region.

    Sharpness is measured on the contrast-normalised patch (std 50), so a dark but sharp photo
    is reported as dark, not also as blurred.
    """
    patch = _face_patch(img, box)
    std = float(patch.std())
    normalised = (patch - patch.mean()) * (50.0 / max(std, 1.0))
    return float(patch.mean()), laplacian_variance(normalised)


def assess(img: np.ndarray, analysis: Analysis) -> Quality:
    """Check one enrolment photo; ``reasons`` lists every failed check (stable codes)."""
    n = len(analysis.faces)
    if n == 0:
        return Quality(faces=0, reasons=("no_face",))
    if n > 1:
        return Quality(faces=n, reasons=("several_faces",))
    box = analysis.faces[0].box
    face_px = min(box.width, box.height)
    brightness, sharpness = measure(img, box)
    reasons = []
    if face_px < MIN_FACE_PX:
        reasons.append("face_too_small")
    if brightness < MIN_BRIGHTNESS:
        reasons.append("too_dark")
    elif brightness > MAX_BRIGHTNESS:
        reasons.append("too_bright")
    if sharpness < MIN_SHARPNESS:
        reasons.append("blurred")
    return Quality(
        faces=1,
        face_px=face_px,
        brightness=round(brightness, 1),
        sharpness=round(sharpness, 1),
        reasons=tuple(reasons),
    )
