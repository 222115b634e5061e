"""Liveness sequences from the developer set: real head turns, and attacks made of one picture.

The developer set has no video, so a *genuine* sequence is made of several real photos of one
person in which the head is frontal or really turned (a horizontal flip of a real turn is a
real turn the other way); a blink is the local eyelid warp of ``photos.close_eyes`` on a frontal
photo (lids only: the rigid landmarks do not move). Every frame goes through a webcam-like
degradation (letterboxed into 640×480, sensor noise, JPEG at the browser's 0.85).

An *attack* is one photo of the person, moved by a 2-D warp to fake the turns (``WARPS``: a
perspective tilt of the picture plane, as a printed photo turned in front of the camera or a
photo tilted in software; an affine shear; a thin-plate warp that drags the middle of the face
sideways), with the same eyelid warp for blinks, then degraded as a print, a screen or a
virtual camera (``MEDIA``). Every frame gets fresh noise, so no two frames are the same pixels
(the replay check does not refuse them: only the liveness judgement can).

Used by ``tests/biometrics/test_liveness.py`` and ``bench/bench_liveness.py``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from biometrics import engine, liveness, planarity
from tests.biometrics import photos

FRAME_W, FRAME_H = 640, 480

# Real photos of one person by pose: frontal, head turned to the person's left (positive yaw),
# to their right, a frontal photo on which the synthetic eyelid warp reads as closed eyes;
# "flip:" marks a horizontal flip of a real photo (a real turn, mirrored).
GENUINE: dict[str, dict[str, tuple[str, ...]]] = {
    "barack_obama": {
        "frontal": ("obama/obama_480p.jpg", "obama/obama_1.jpg", "obama/obama_small.jpg"),
        "left": ("obama/obama_4.jpg", "flip:obama/obama_2.jpg"),
        "right": ("obama/obama_2.jpg", "flip:obama/obama_4.jpg"),
        "blink": ("obama/obama_480p.jpg",),
    },
    "alex_lacamoire": {
        "frontal": ("alex_lacamoire/alex_lacamoire_2.jpg", "alex_lacamoire/alex_lacamoire_3.jpg"),
        "left": ("alex_lacamoire/alex_lacamoire_1.png",),
        "right": ("flip:alex_lacamoire/alex_lacamoire_1.png",),
        "blink": ("alex_lacamoire/alex_lacamoire_3.jpg",),
    },
    "kit_harington": {
        "frontal": ("kit_harington/kit_harington_1.jpeg",),
        "left": ("kit_harington/kit_harington_3.jpg", "flip:kit_harington/kit_harington_2.jpeg"),
        "right": ("kit_harington/kit_harington_2.jpeg", "flip:kit_harington/kit_harington_3.jpg"),
        "blink": ("kit_harington/kit_harington_1.jpeg",),
    },
}

# One frontal-ish photo per person of the set: what an impostor holds (the enrolled person's
# own picture: the face matches, only liveness can refuse it).
ATTACK_SOURCES = (
    "obama/obama_480p.jpg",
    "obama/obama_1.jpg",
    "biden/biden_2.jpg",
    "alex_lacamoire/alex_lacamoire_2.jpg",
    "amy_adams/adams_1.jpg",
    "anthony_hopkins/Anthony_Hopkins_0002.jpg",
    "eric_clapton/clapton_1.jpg",
    "john_lennon/lennon_1.jpg",
    "kit_harington/kit_harington_1.jpeg",
    "lin_manuel_miranda/lin_manuel_miranda_1.png",
    "rose_leslie/rose_leslie_1.jpg",
    "steve_carell/carell_1.jpg",
)


def load(name: str) -> np.ndarray:
    """A developer-set photo; ``flip:`` mirrors it."""
    if name.startswith("flip:"):
        return photos.flipped(name[5:])
    return photos.image(name)


def landmarks(img: np.ndarray) -> np.ndarray:
    analysis = engine.analyze(
        img, encode_faces=False, with_landmarks=True, config=engine.SWEEP_CONFIG
    )
    return analysis.faces[0].landmarks68


def template(name: str) -> list[np.ndarray]:
    """The enrolment of the photo's person made from that photo (1 encoding)."""
    return [engine.analyze(load(name), config=engine.SWEEP_CONFIG).faces[0].encoding]


# ---------------------------------------------------------------- frames like a webcam's


def letterbox(img: np.ndarray) -> np.ndarray:
    """The picture scaled to fit 640×480 on a grey background (a webcam frame)."""
    h, w = img.shape[:2]
    scale = min(FRAME_W / w, FRAME_H / h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    canvas = Image.new("RGB", (FRAME_W, FRAME_H), (118, 118, 118))
    resized = Image.fromarray(img).resize(size, Image.Resampling.BILINEAR)
    canvas.paste(resized, ((FRAME_W - size[0]) // 2, (FRAME_H - size[1]) // 2))
    return np.asarray(canvas)


def _noise(img: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    noisy = img.astype(np.float32) + rng.normal(0.0, sigma, img.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def jpeg_roundtrip(img: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def webcam(img: np.ndarray, rng: np.random.Generator, lossless: bool = False) -> bytes:
    """What the page sends: sensor noise, JPEG at quality 85 (``canvas.toBlob(…, 0.85)``).
    ``lossless``: PNG, for the synthetic closed-eye frame (JPEG noise around a warped eyelid
    moves the eye landmarks more than a real blink would, as ``harness.FrameMaker`` notes)."""
    noisy = _noise(img, rng, 2.5)
    return photos.png(noisy) if lossless else photos.jpeg(noisy, quality=85)


def _printed(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A photo printed and filmed: softer, less contrast, a warm cast, paper grain."""
    soft = np.asarray(Image.fromarray(img).filter(ImageFilter.GaussianBlur(1.2)), np.float32)
    cast = np.array([1.04, 0.98, 0.86], np.float32) * rng.uniform(0.92, 1.02)
    out = (soft - 128.0) * 0.8 + 128.0 + 10.0
    return jpeg_roundtrip(_noise(np.clip(out * cast, 0, 255).astype(np.uint8), rng, 5.0), 60)


def _screen(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A screen filmed by the camera: moiré of the pixel grid, gamma, a blue cast."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle, freq = rng.uniform(0.1, 0.6), rng.uniform(0.18, 0.32)
    wave = np.sin(2 * np.pi * freq * (xx * np.cos(angle) + yy * np.sin(angle)))
    moire = 1.0 + 0.12 * wave[:, :, None]
    out = 255.0 * (img.astype(np.float32) / 255.0) ** 0.85 * moire
    out = out * np.array([0.92, 0.98, 1.08], np.float32)
    return jpeg_roundtrip(_noise(np.clip(out, 0, 255).astype(np.uint8), rng, 3.0), 75)


def _virtual(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A virtual camera fed the picture directly (no optical degradation)."""
    return img


MEDIA: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "virtual_camera": _virtual,
    "printed": _printed,
    "screen": _screen,
}


# ---------------------------------------------------------------- 2-D warps of one picture


def _face_frame(lm: np.ndarray) -> tuple[np.ndarray, float]:
    centre = lm[list(planarity.RIGID)].mean(axis=0)
    half = float(np.linalg.norm(lm[16] - lm[0])) / 2.0
    return centre, half


def _projective(img: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Warp by a homography (``forward`` maps source pixels to destination pixels)."""
    inverse = np.linalg.inv(forward)
    inverse = inverse / inverse[2, 2]
    h, w = img.shape[:2]
    out = Image.fromarray(img).transform(
        (w, h),
        Image.Transform.PERSPECTIVE,
        tuple(inverse.flatten()[:8]),
        Image.Resampling.BILINEAR,
        fillcolor=(118, 118, 118),
    )
    return np.asarray(out)


def _about_face(lm: np.ndarray, m: np.ndarray) -> np.ndarray:
    """A map given in face units (origin the face's centre, unit its half-width) in pixels."""
    (cx, cy), half = _face_frame(lm)
    t = np.array([[1 / half, 0, -cx / half], [0, 1 / half, -cy / half], [0, 0, 1]])
    return np.linalg.inv(t) @ m @ t


def perspective(img: np.ndarray, lm: np.ndarray, side: int, strength: float) -> np.ndarray:
    """The picture plane turned about a vertical axis through the face, seen from close by
    (1.8 face half-widths): the nose moves towards one jaw end, as in a head turn."""
    angle, d = np.radians(55.0 * strength) * side, 1.6
    m = np.array([[d * np.cos(angle), 0, 0], [0, d, 0], [np.sin(angle), 0, d]])
    return _projective(img, _about_face(lm, m))


def shear(img: np.ndarray, lm: np.ndarray, side: int, strength: float) -> np.ndarray:
    """An affine shear with a horizontal squeeze: the nose (below the jaw ends' line) slides
    sideways against them."""
    k = 0.5 * strength * side
    m = np.array([[0.9, k, 0], [0, 1, 0], [0, 0, 1]])
    return _projective(img, _about_face(lm, m))


def _tps_inverse(dst: np.ndarray, src: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Thin-plate spline through control points ``dst → src``, evaluated at ``points``."""

    def kernel(r2: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(r2 > 0, r2 * np.log(r2), 0.0)

    n = len(dst)
    k = kernel(((dst[:, None, :] - dst[None, :, :]) ** 2).sum(-1))
    p = np.column_stack([np.ones(n), dst])
    a = np.zeros((n + 3, n + 3))
    a[:n, :n], a[:n, n:], a[n:, :n] = k + 1e-6 * np.eye(n), p, p.T
    b = np.zeros((n + 3, 2))
    b[:n] = src
    coef = np.linalg.solve(a, b)
    u = kernel(((points[:, None, :] - dst[None, :, :]) ** 2).sum(-1))
    return u @ coef[:n] + np.column_stack([np.ones(len(points)), points]) @ coef[n:]


def _sample(img: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Bilinear sampling of ``img`` at float pixel positions ``xy`` (h, w, 2)."""
    h, w = img.shape[:2]
    x = np.clip(xy[..., 0], 0, w - 1.001)
    y = np.clip(xy[..., 1], 0, h - 1.001)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    f = img.astype(np.float32)
    top = f[y0, x0] * (1 - fx) + f[y0, x0 + 1] * fx
    bottom = f[y0 + 1, x0] * (1 - fx) + f[y0 + 1, x0 + 1] * fx
    return np.clip(top * (1 - fy) + bottom * fy, 0, 255).astype(np.uint8)


def thin_plate(img: np.ndarray, lm: np.ndarray, side: int, strength: float) -> np.ndarray:
    """A thin-plate warp that drags the middle of the face sideways (nose most, eyes and mouth
    less) while the jaw outline and the picture's border stay: a 'turn' drawn in 2-D."""
    (cx, _), half = _face_frame(lm)
    h, w = img.shape[:2]
    src = lm.copy()
    weight = np.clip(1.0 - np.abs(lm[:, 0] - cx) / half, 0.0, 1.0) ** 1.5
    weight[0:17] = 0.0  # the jaw outline stays
    weight[27:36] = np.maximum(weight[27:36], 0.8)  # the nose moves most
    dst = src.copy()
    dst[:, 0] += side * strength * 0.55 * half * weight
    border = np.array([[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1], [w / 2, 0], [w / 2, h - 1]])
    dst_all, src_all = np.vstack([dst, border]), np.vstack([src, border])
    step = 4  # the spline on a coarse grid, then bilinear in between (speed)
    gy, gx = np.mgrid[0 : h + step : step, 0 : w + step : step].astype(np.float64)
    coarse = _tps_inverse(dst_all, src_all, np.column_stack([gx.ravel(), gy.ravel()]))
    coarse = coarse.reshape(gy.shape[0], gy.shape[1], 2)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    full = _sample_field(coarse, xx / step, yy / step)
    return _sample(img, full)


def _sample_field(field: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    gh, gw = field.shape[:2]
    x0 = np.clip(np.floor(x).astype(int), 0, gw - 2)
    y0 = np.clip(np.floor(y).astype(int), 0, gh - 2)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    top = field[y0, x0] * (1 - fx) + field[y0, x0 + 1] * fx
    bottom = field[y0 + 1, x0] * (1 - fx) + field[y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


Warp = Callable[[np.ndarray, np.ndarray, int, float], np.ndarray]
WARPS: dict[str, Warp] = {"perspective": perspective, "shear": shear, "thin_plate": thin_plate}
SIDES = {"turn_left": 1, "turn_right": -1}  # positive yaw: nose to the image's right
STRENGTHS = (0.55, 0.7, 0.85)  # three frames per faked turn (stronger ones lose the face)


# ---------------------------------------------------------------- sequences


@dataclass(frozen=True)
class Sequence:
    label: str
    kind: str  # "genuine" or the attack's "warp/medium"
    actions: tuple[str, ...]
    frames: list[bytes]
    enrolled: str  # the photo the template is made from


class Closed(np.ndarray):
    """A picture with the eyelids warped shut (sent losslessly)."""


def _blink(name: str) -> list[np.ndarray]:
    """Open, closed (the lids warped shut at the photo's own resolution), open."""
    frontal = letterbox(load(name))
    closed = letterbox(photos.close_eyes(load(name))).view(Closed)
    return [frontal, closed, frontal]


def attack(
    source: str, actions: tuple[str, ...], warp: str, medium: str, seed: int = 0
) -> Sequence:
    """One picture performing ``actions`` by 2-D warps, shown through ``medium``."""
    rng = np.random.default_rng(seed)
    base = letterbox(load(source))
    lm = landmarks(base)
    pictures = [base]
    for action in actions:
        if action == "blink":
            pictures += _blink(source)
        else:
            pictures += [WARPS[warp](base, lm, SIDES[action], s) for s in STRENGTHS]
            pictures.append(base)
    frames = [webcam(MEDIA[medium](p, rng), rng, isinstance(p, Closed)) for p in pictures]
    return Sequence(f"{source} {warp}/{medium}", f"{warp}/{medium}", actions, frames, source)


def genuine(person: str, actions: tuple[str, ...], seed: int = 0) -> Sequence:
    """Real photos of ``person`` performing ``actions`` (frontal photos between the turns)."""
    rng = np.random.default_rng(seed)
    poses = GENUINE[person]
    frontals = poses["frontal"]
    turns = {"turn_left": poses["left"], "turn_right": poses["right"]}
    pick = int(rng.integers(0, 1 << 16))
    pictures = [letterbox(load(frontals[pick % len(frontals)]))]
    for i, action in enumerate(actions):
        frontal = frontals[(pick + i + 1) % len(frontals)]
        if action == "blink":
            pictures += _blink(poses["blink"][0])
        else:
            names = turns[action]
            turned = names[(pick + i) % len(names)]
            pictures += [letterbox(load(turned)), letterbox(load(frontal))]
    frames = [webcam(p, rng, isinstance(p, Closed)) for p in pictures]
    enrolled = poses["frontal"][0]
    return Sequence(f"{person} genuine", "genuine", actions, frames, enrolled)


def judge(seq: Sequence, templates: list[np.ndarray], threshold: float = 0.6):
    """The production judgement of a sequence's frames (decoded as the server decodes them)."""
    obs = [liveness.observe(engine.load_image(f), templates) for f in seq.frames]
    return liveness.judge(seq.actions, obs, threshold), obs
