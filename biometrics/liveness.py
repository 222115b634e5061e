"""Liveness challenge from facial landmarks: a random sequence of blinks and head turns.

The server picks a random sequence (e.g. turn_left → blink → turn_right) with a nonce and a
deadline; the taker's page sends the frames it captured while following it. The frames pass
only if:

* there are enough of them, none repeats an earlier frame (same bytes or same decoded pixels,
  within the submission or anywhere earlier in the session: replays), each shows exactly one
  face, and the face matches the enrolled template (median distance over the frames);
* the actions appear in the requested order: a *turn* is a frame whose head yaw passes
  ``TURN_YAW`` after a frontal frame (so a head held turned does not count twice); a *blink* is
  open → closed → open on frontal frames, with the eye aspect ratio measured relative to the
  taker's own open-eye baseline in this submission (faces differ: 0.19–0.42 when open on the
  developer set).

Yaw is measured from the 68-point landmarks as the nose tip's position between the jaw ends
(points 0 and 16), −0.5…+0.5, 0 when frontal. Positive = the taker turned to *their* left
(nose towards the image's right in an unmirrored camera frame, which is what browsers
capture). On the developer set frontal photos give |yaw| ≤ 0.16, turned portraits 0.20–0.26.

A flat picture cannot turn its head (``flat_picture``). A printed photo turned in front of the
camera, a screen showing one, or a photo put in perspective or sheared by software is a plane:
a turn counts only on a frame that one homography from the most frontal frame does not explain
(``biometrics.planarity.planar_fit`` below ``FLAT_FIT``), and the turned frames as a whole must
not be flat (their median fit below ``FLAT_FIT``). When the turns were performed but only by a
flat picture, the reason is ``flat_picture``. Figures: ``bench/bench_liveness.py`` and
``docs/biometrics.md``.
"""

from __future__ import annotations

import secrets
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from biometrics import engine, planarity

ACTIONS = ("blink", "turn_left", "turn_right")
TURN_YAW = 0.18
FRONTAL_YAW = 0.10
BLINK_RATIO = 0.75  # closed: EAR ≤ 0.75 × open baseline (a real blink drops to ≈ 0.3–0.5)
REOPEN_RATIO = 0.85  # lids open again (landmark noise on open eyes is ≈ ±8 %)
CHALLENGE_STEPS = 3
CHALLENGE_SECONDS = 90
MIN_FRAMES = 3
MAX_FRAMES = 24
# a turned frame whose face one homography explains this well is a flat picture: photos tilted
# or sheared (virtual camera, printed, on a screen) give 0.92–0.999 on the developer set (median
# ≈ 0.99), real turns 0.32–0.89
FLAT_FIT = 0.92
FLAT_SAMPLE = 6  # turned frames whose median fit decides (each fit costs ≈ 0.1–1 s of CPU)

_rng = secrets.SystemRandom()


@dataclass(frozen=True)
class Challenge:
    nonce: str
    actions: tuple[str, ...]
    issued_at: datetime
    deadline: datetime


def new_challenge(now: datetime, steps: int = CHALLENGE_STEPS) -> Challenge:
    """A random action sequence (no action twice in a row, at least one turn and one blink)."""
    while True:
        actions: list[str] = []
        for _ in range(steps):
            actions.append(_rng.choice([a for a in ACTIONS if not actions or a != actions[-1]]))
        if "blink" in actions and any(a.startswith("turn") for a in actions):
            break
    return Challenge(
        nonce=secrets.token_urlsafe(24),
        actions=tuple(actions),
        issued_at=now,
        deadline=now + timedelta(seconds=CHALLENGE_SECONDS),
    )


def _eye_ratio(eye: np.ndarray) -> float:
    vertical = np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4])
    horizontal = np.linalg.norm(eye[0] - eye[3])
    return float(vertical / (2.0 * horizontal)) if horizontal else 0.0


def eye_aspect_ratio(landmarks: np.ndarray) -> float:
    """Mean EAR of both eyes (Soukupová & Čech 2016): falls towards 0 as the lids close."""
    return (_eye_ratio(landmarks[36:42]) + _eye_ratio(landmarks[42:48])) / 2.0


def head_yaw(landmarks: np.ndarray) -> float:
    """Nose tip between the jaw ends, −0.5…+0.5; positive = turned to the taker's left."""
    left, right, nose = landmarks[0, 0], landmarks[16, 0], landmarks[30, 0]
    span = right - left
    return float((nose - left) / span - 0.5) if span else 0.0


@dataclass(frozen=True)
class Observation:
    """What one liveness frame showed (computed by the service with the engine)."""

    faces: int
    ear: float | None = None
    yaw: float | None = None
    distance: float | None = None
    landmarks: np.ndarray | None = field(default=None, compare=False, repr=False)
    grey: np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class LivenessResult:
    passed: bool
    reason: str | None
    completed: tuple[str, ...]
    median_distance: float | None


def flatness(obs: list[Observation]) -> Callable[[int], float | None]:
    """Frame index → how well one homography from the most frontal frame explains that frame
    (``planarity.planar_fit``; 1 = flat, ``None`` without landmarks). Lazy and cached: only
    the frames that would count as turns are fitted, and a fit stops once it is flat."""
    faces = [o for o in obs if o.landmarks is not None and o.grey is not None and o.yaw is not None]
    ref = min(faces, key=lambda o: abs(o.yaw or 0.0)) if faces else None
    cache: dict[int, float | None] = {}

    def fit(i: int) -> float | None:
        o = obs[i]
        if ref is None or o.landmarks is None or o.grey is None:
            return None
        if i not in cache:
            cache[i] = planarity.planar_fit(
                ref.grey, ref.landmarks, o.grey, o.landmarks, enough=FLAT_FIT
            )
        return cache[i]

    return fit


def _actions_done(
    actions: tuple[str, ...],
    obs: list[Observation],
    flat: Callable[[int], float | None] | None = None,
) -> tuple[str, ...]:
    """Walk the frames in order and return the prefix of ``actions`` they perform; with
    ``flat`` (``flatness``) a turn counts only on a frame that is not a flat picture."""
    frontal = [o.ear for o in obs if o.yaw is not None and abs(o.yaw) < FRONTAL_YAW]
    baseline = statistics.median(frontal) if frontal else 0.0
    done: list[str] = []
    seen_frontal = seen_open = seen_closed = False
    for i, o in enumerate(obs):
        if len(done) == len(actions) or o.yaw is None or o.ear is None:
            continue
        action = actions[len(done)]
        is_frontal = abs(o.yaw) < FRONTAL_YAW
        if action == "blink":
            if not is_frontal or not baseline:
                continue
            if o.ear >= REOPEN_RATIO * baseline:
                if seen_closed:
                    done.append(action)
                    seen_frontal, seen_open, seen_closed = True, False, False
                else:
                    seen_open = True
            elif o.ear <= BLINK_RATIO * baseline and seen_open:
                seen_closed = True
            continue
        if is_frontal:
            seen_frontal = True
        wanted = o.yaw >= TURN_YAW if action == "turn_left" else o.yaw <= -TURN_YAW
        if wanted and seen_frontal and flat is not None:
            fit = flat(i)
            wanted = fit is not None and fit < FLAT_FIT
        if wanted and seen_frontal:
            done.append(action)
            seen_frontal = seen_open = seen_closed = False
    return tuple(done)


def judge(actions: tuple[str, ...], obs: list[Observation], threshold: float) -> LivenessResult:
    """Decide a liveness submission (replays are refused before this, by the service)."""
    if len(obs) < MIN_FRAMES:
        return LivenessResult(False, "too_few_frames", (), None)
    if any(o.faces == 0 for o in obs):
        return LivenessResult(False, "no_face", (), None)
    if any(o.faces > 1 for o in obs):
        return LivenessResult(False, "several_faces", (), None)
    distances = [o.distance for o in obs if o.distance is not None]
    median = round(statistics.median(distances), 4) if distances else None
    if median is None or median > threshold:
        return LivenessResult(False, "mismatch", (), median)
    fit = flatness(obs)
    performed = _actions_done(actions, obs)
    if performed == actions and _mostly_flat(obs, fit):
        return LivenessResult(False, "flat_picture", (), median)
    done = _actions_done(actions, obs, fit)
    if done != actions:
        reason = "flat_picture" if performed == actions else "actions_not_performed"
        return LivenessResult(False, reason, done, median)
    return LivenessResult(True, None, done, median)


def _mostly_flat(obs: list[Observation], fit: Callable[[int], float | None]) -> bool:
    """The turned frames as a whole are a flat picture: the median fit of (up to
    ``FLAT_SAMPLE``, evenly spread) turned frames reaches ``FLAT_FIT``. One frame whose fit
    went astray then cannot carry a photo's turn (the per-frame rule alone would let it)."""
    turned = [i for i, o in enumerate(obs) if o.yaw is not None and abs(o.yaw) >= TURN_YAW]
    if len(turned) > FLAT_SAMPLE:
        turned = [
            turned[round(k * (len(turned) - 1) / (FLAT_SAMPLE - 1))] for k in range(FLAT_SAMPLE)
        ]
    fits = [f for f in (fit(i) for i in turned) if f is not None]
    return bool(fits) and statistics.median(fits) >= FLAT_FIT


def observe(img: np.ndarray, templates: list[np.ndarray]) -> Observation:
    """Landmarks and match distance of one frame (sweep detection: no face is missed)."""
    analysis = engine.analyze(img, with_landmarks=True, config=engine.SWEEP_CONFIG)
    if len(analysis.faces) != 1:
        return Observation(faces=len(analysis.faces))
    face = analysis.faces[0]
    return Observation(
        faces=1,
        ear=eye_aspect_ratio(face.landmarks68),
        yaw=head_yaw(face.landmarks68),
        distance=engine.best_distance(templates, face.encoding),
        landmarks=face.landmarks68,
        grey=planarity.grey(img),
    )
