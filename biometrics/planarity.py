"""Is a turned face a flat picture? One planar homography against a frontal frame.

A printed photo turned in front of the camera, a screen showing a photo, or a photo put in
perspective or sheared by software is a *plane*: every frame of it is the reference frame under
one homography (a 3×3 projective map), up to noise, blur and lighting. A real head is not a
plane: when it turns, the nose moves against the cheeks, one side of the face hides behind the
nose and the other comes into view, so no homography maps the frontal face onto the turned one.

The test: start from the homography that best maps the reference frame's rigid landmarks
(jaw, brows, nose, eye corners: ``RIGID``; not the lids or the mouth) onto the turned frame's
(normalised DLT), refine it on the pixels of the face (Gauss–Newton on the normalised
intensities, coarse then fine) and measure how well the best planar map explains the turned
face: the correlation of the reference face with the turned frame pulled back through it. A
flat picture is explained almost perfectly (turned frames of photos tilted in perspective or
sheared, through a virtual camera, printed or on a screen: 0.92–0.999, median ≈ 0.99); a real
turn is not (0.32–0.89 across real photos).

Why pixels and not the landmarks alone: the 68-point predictor is trained on real heads, so on
a picture tilted in perspective it places the jaw and nose points where a *turned head* would
have them; the landmarks of a tilted photo then miss every homography by as much as a real
turn's (0.03–0.10 of the face's width for tilted photos, 0.03–0.17 for real turns). The
landmarks only give the starting point. Figures: ``bench/bench_liveness.py``,
``docs/biometrics.md``.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

# jaw 0–16, brows 17–26, nose 27–35, the eye corners: points that move only with the head
RIGID = (*range(0, 36), 36, 39, 42, 45)
INNER = (*range(17, 36), 36, 39, 42, 45)  # without the jaw line (its points slide)
GRID = 64  # sample points across the face's width
ITERATIONS = 25
COARSE = (60, 40)  # blur radii of the coarse passes, as fractions of the face's width (1/n)


def _normaliser(points: np.ndarray) -> np.ndarray:
    """Hartley normalisation: centroid to the origin, mean distance √2."""
    centre = points.mean(axis=0)
    spread = float(np.sqrt(((points - centre) ** 2).sum(axis=1)).mean()) or 1.0
    s = np.sqrt(2.0) / spread
    return np.array([[s, 0.0, -s * centre[0]], [0.0, s, -s * centre[1]], [0.0, 0.0, 1.0]])


def _homogeneous(points: np.ndarray) -> np.ndarray:
    return np.column_stack([points, np.ones(len(points))])


def fit_homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 3×3 homography that maps ``src`` onto ``dst`` best (normalised DLT, ≥ 4 points)."""
    ts, td = _normaliser(src), _normaliser(dst)
    a = _homogeneous(src) @ ts.T
    b = _homogeneous(dst) @ td.T
    rows = np.zeros((2 * len(a), 9))
    rows[0::2, 0:3] = -a
    rows[0::2, 6:9] = a * b[:, 0:1]
    rows[1::2, 3:6] = -a
    rows[1::2, 6:9] = a * b[:, 1:2]
    h = np.linalg.inv(td) @ np.linalg.svd(rows)[2][-1].reshape(3, 3) @ ts
    return h / h[2, 2] if abs(h[2, 2]) > 1e-12 else h


def fit_affine(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The affine map (as a 3×3 homography) that maps ``src`` onto ``dst`` best."""
    coef = np.linalg.lstsq(_homogeneous(src), dst, rcond=None)[0]
    return np.vstack([coef.T, [0.0, 0.0, 1.0]])


def landmark_residual(reference: np.ndarray, frame: np.ndarray) -> float:
    """RMS distance of ``frame``'s rigid landmarks from the best homography image of the
    reference's, over the reference face's width (reported by the bench, not decided on)."""
    src, dst = reference[list(RIGID)], frame[list(RIGID)]
    mapped = _homogeneous(src) @ fit_homography(src, dst).T
    with np.errstate(divide="ignore", invalid="ignore"):
        mapped = mapped[:, :2] / mapped[:, 2:]
    width = float(np.linalg.norm(reference[16] - reference[0])) or 1.0
    return float(np.sqrt(((mapped - dst) ** 2).sum(axis=1).mean()) / width)


# ---------------------------------------------------------------- pixels


def grey(img: np.ndarray) -> np.ndarray:
    """The frame in grey levels (kept with each liveness observation)."""
    return np.asarray(Image.fromarray(img).convert("L"))


def _blurred(g: np.ndarray, radius: float) -> np.ndarray:
    out = Image.fromarray(g).filter(ImageFilter.GaussianBlur(radius))
    return np.asarray(out, dtype=np.float32)


def _bilinear(g: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    h, w = g.shape
    x = np.clip(x, 0, w - 1.001)
    y = np.clip(y, 0, h - 1.001)
    x0, y0 = x.astype(int), y.astype(int)
    fx, fy = x - x0, y - y0
    top = g[y0, x0] * (1 - fx) + g[y0, x0 + 1] * fx
    bottom = g[y0 + 1, x0] * (1 - fx) + g[y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


def _convex_hull(points: np.ndarray) -> np.ndarray:
    """Counter-clockwise hull (monotone chain)."""
    pts = sorted(map(tuple, points.tolist()))

    def chain(seq: list[tuple[float, float]]) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for p in seq:
            while (
                len(out) >= 2
                and (
                    (out[-1][0] - out[-2][0]) * (p[1] - out[-2][1])
                    - (out[-1][1] - out[-2][1]) * (p[0] - out[-2][0])
                )
                <= 0
            ):
                out.pop()
            out.append(p)
        return out

    lower, upper = chain(pts), chain(pts[::-1])
    return np.array(lower[:-1] + upper[:-1])


def _face_points(landmarks: np.ndarray) -> np.ndarray:
    """A grid of points inside the face (the jaw and brows' hull, shrunk by 15 %)."""
    width = float(np.linalg.norm(landmarks[16] - landmarks[0])) or 1.0
    outline = landmarks[:27]
    centre = outline.mean(axis=0)
    hull = _convex_hull(centre + 0.85 * (outline - centre))
    step = max(1.0, width / GRID)
    (x0, y0), (x1, y1) = hull.min(axis=0), hull.max(axis=0)
    gy, gx = np.mgrid[y0:y1:step, x0:x1:step]
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    inside = np.ones(len(pts), dtype=bool)
    for a, b in zip(hull, np.roll(hull, -1, axis=0), strict=True):
        inside &= (b[0] - a[0]) * (pts[:, 1] - a[1]) - (b[1] - a[1]) * (pts[:, 0] - a[0]) >= 0
    return pts[inside]


def _warp(h: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    w = h[2, 0] * x + h[2, 1] * y + h[2, 2]
    w = np.where(np.abs(w) < 1e-9, 1e-9, w)
    return (h[0, 0] * x + h[0, 1] * y + h[0, 2]) / w, (h[1, 0] * x + h[1, 1] * y + h[1, 2]) / w, w


def _standard(v: np.ndarray) -> tuple[np.ndarray, float]:
    s = float(v.std()) + 1e-6
    return (v - v.mean()) / s, s


def _refine(h: np.ndarray, ref: np.ndarray, target: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Gauss–Newton on the 8 homography parameters, intensities standardised (gain/offset)."""
    x, y = pts[:, 0], pts[:, 1]
    ref_values, _ = _standard(_bilinear(ref, x, y))
    gy, gx = np.gradient(target)
    for _ in range(ITERATIONS):
        u, v, w = _warp(h, x, y)
        values, s = _standard(_bilinear(target, u, v))
        du, dv = _bilinear(gx, u, v) / s, _bilinear(gy, u, v) / s
        along = du * u + dv * v
        jac = (
            np.column_stack([du * x, du * y, du, dv * x, dv * y, dv, -along * x, -along * y])
            / w[:, None]
        )
        scale = np.linalg.norm(jac, axis=0) + 1e-12  # columns of 1 and of x differ by 10²
        jn = jac / scale
        try:
            step = np.linalg.solve(jn.T @ jn + 1e-9 * np.eye(8), jn.T @ (ref_values - values))
        except np.linalg.LinAlgError:
            break
        step = step / scale
        if not np.all(np.isfinite(step)):
            break
        h = h + np.append(step, 0.0).reshape(3, 3)
        h = h / h[2, 2]
        if np.abs(step).max() < 1e-7:
            break
    return h


def planar_fit(
    ref_grey: np.ndarray,
    ref_landmarks: np.ndarray,
    grey_: np.ndarray,
    landmarks: np.ndarray,
    enough: float = 1.0,
) -> float:
    """How well one homography explains the face of ``grey_`` as the reference face: the
    correlation (−1…1) of the reference face with the frame pulled back through the best
    homography found (1 = a flat picture of the same face). Several starts (landmark subsets,
    projective and affine) and two coarse scales; stops early once a fit reaches ``enough``."""
    width = float(np.linalg.norm(ref_landmarks[16] - ref_landmarks[0])) or 1.0
    pts = _face_points(ref_landmarks)
    if len(pts) < 50:
        return 0.0
    x, y = pts[:, 0], pts[:, 1]
    fine_ref, fine_target = _blurred(ref_grey, width / 120), _blurred(grey_, width / 120)
    reference = _bilinear(fine_ref, x, y)
    best = -1.0
    for coarse in COARSE:
        coarse_ref = _blurred(ref_grey, width / coarse)
        coarse_target = _blurred(grey_, width / coarse)
        for subset in (RIGID, INNER):  # the jaw points of a tilted photo can mislead
            for fit in (fit_homography, fit_affine):  # a wild projective start can diverge
                h = fit(ref_landmarks[list(subset)], landmarks[list(subset)])
                h = _refine(h, coarse_ref, coarse_target, pts)
                h = _refine(h, fine_ref, fine_target, pts)
                u, v, _ = _warp(h, x, y)
                pulled = _bilinear(fine_target, u, v)
                if np.all(np.isfinite(pulled)) and pulled.std() > 0 and reference.std() > 0:
                    best = max(best, float(np.corrcoef(reference, pulled)[0, 1]))
                if best >= enough:
                    return best
    return best
