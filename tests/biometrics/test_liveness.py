"""Liveness from landmarks on real photos (turns) and a synthetic eyelid warp (blinks)."""

from __future__ import annotations

from datetime import UTC, datetime

from biometrics import engine, liveness
from tests.biometrics import photos, spoofing

THRESHOLD = 0.6


def _template() -> list:
    return [engine.analyze(photos.image("obama/obama_1.jpg")).faces[0].encoding]


def test_head_yaw_sign_on_real_turned_photos_and_their_flips():
    tpl = _template()
    left = liveness.observe(photos.image("obama/obama_4.jpg"), tpl)
    right = liveness.observe(photos.image("obama/obama_2.jpg"), tpl)
    front = liveness.observe(photos.image("obama/obama_480p.jpg"), tpl)
    assert left.yaw >= liveness.TURN_YAW
    assert right.yaw <= -liveness.TURN_YAW
    assert abs(front.yaw) < liveness.FRONTAL_YAW
    assert liveness.observe(photos.flipped("obama/obama_4.jpg"), tpl).yaw <= -liveness.TURN_YAW
    assert liveness.observe(photos.flipped("obama/obama_2.jpg"), tpl).yaw >= liveness.TURN_YAW
    assert max(o.distance for o in (left, right, front)) <= THRESHOLD


def test_closed_eyes_lower_the_eye_aspect_ratio_below_the_blink_ratio():
    tpl = _template()
    img = photos.image("obama/obama_480p.jpg")
    open_ = liveness.observe(img, tpl)
    closed = liveness.observe(photos.close_eyes(img), tpl)
    assert closed.ear <= liveness.BLINK_RATIO * open_.ear
    assert closed.distance <= THRESHOLD  # still the same person


def _sequence() -> list[liveness.Observation]:
    """frontal → turned left → frontal → blink (open, closed, open) → turned right."""
    tpl = _template()
    frames = [
        photos.image("obama/obama_480p.jpg"),
        photos.image("obama/obama_4.jpg"),
        photos.image("obama/obama_small.jpg"),
        photos.close_eyes(photos.image("obama/obama_720p.jpg")),
        photos.image("obama/obama_720p.jpg"),
        photos.image("obama/obama_2.jpg"),
    ]
    return [liveness.observe(f, tpl) for f in frames]


def test_a_performed_sequence_passes_only_in_the_requested_order():
    obs = _sequence()
    ok = liveness.judge(("turn_left", "blink", "turn_right"), obs, THRESHOLD)
    assert ok.passed, ok
    wrong = liveness.judge(("turn_right", "blink", "turn_left"), obs, THRESHOLD)
    assert not wrong.passed and wrong.reason == "actions_not_performed"
    assert wrong.completed == ("turn_right",)
    # The same person sitting still (frontal frames only) does not pass.
    still = [o for o in obs if abs(o.yaw) < liveness.FRONTAL_YAW and o.ear > 0.18]
    assert not liveness.judge(("blink", "turn_left", "blink"), still, THRESHOLD).passed


def test_another_person_or_several_faces_fail_liveness():
    obs = _sequence()
    tpl_biden = [engine.analyze(photos.image("biden/biden_1.jpg")).faces[0].encoding]
    impostor = [
        liveness.observe(photos.image(n), tpl_biden)
        for n in ("obama/obama_480p.jpg", "obama/obama_4.jpg", "obama/obama_2.jpg")
    ]
    assert liveness.judge(("turn_left", "turn_right", "blink"), impostor, THRESHOLD).reason == (
        "mismatch"
    )
    crowd = [*obs[:2], liveness.observe(photos.image("multi/two_people.jpg"), _template())]
    assert liveness.judge(("turn_left", "blink", "turn_right"), crowd, THRESHOLD).reason == (
        "several_faces"
    )
    assert liveness.judge(("blink",), obs[:2], THRESHOLD).reason == "too_few_frames"


def test_challenges_are_random_with_a_nonce_and_a_deadline():
    now = datetime.now(UTC)
    challenges = [liveness.new_challenge(now) for _ in range(60)]
    assert len({c.nonce for c in challenges}) == 60
    assert len({c.actions for c in challenges}) > 3
    for c in challenges:
        assert c.deadline > now and len(c.actions) == liveness.CHALLENGE_STEPS
        assert "blink" in c.actions and any(a.startswith("turn") for a in c.actions)
        assert all(a != b for a, b in zip(c.actions, c.actions[1:], strict=False))


# --- a flat picture cannot turn its head (sequences: tests/biometrics/spoofing.py) ---------

CHALLENGE = ("turn_left", "blink", "turn_right")


def test_one_photo_turned_in_perspective_is_refused_as_a_flat_picture():
    """One photo of the enrolled person, its 'turns' a perspective tilt of the picture and its
    'blink' an eyelid warp, printed: the face matches, the turns reach the yaw, but one
    homography explains every turned frame."""
    seq = spoofing.attack("obama/obama_480p.jpg", CHALLENGE, "perspective", "printed", seed=3)
    verdict, obs = spoofing.judge(seq, spoofing.template(seq.enrolled))
    assert verdict.reason == "flat_picture", verdict
    assert not verdict.passed and verdict.median_distance <= THRESHOLD
    # without the flat-picture test the same frames performed the whole challenge
    assert liveness._actions_done(CHALLENGE, obs) == CHALLENGE
    fit = liveness.flatness(obs)
    turned = [i for i, o in enumerate(obs) if abs(o.yaw) >= liveness.TURN_YAW]
    assert turned and all(fit(i) >= liveness.FLAT_FIT for i in turned)


def test_real_photos_of_a_turning_head_pass():
    """Several real photos of the enrolled person, frontal and really turned, pass."""
    seq = spoofing.genuine("barack_obama", CHALLENGE, seed=1)
    verdict, obs = spoofing.judge(seq, spoofing.template(seq.enrolled))
    assert verdict.passed, verdict
    fit = liveness.flatness(obs)
    turned = [i for i, o in enumerate(obs) if abs(o.yaw) >= liveness.TURN_YAW]
    assert turned and all(fit(i) < liveness.FLAT_FIT for i in turned)
