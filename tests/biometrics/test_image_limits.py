"""Image uploads are judged by their header before any pixel is decoded.

A solid-colour PNG of 8000×5000 is about 125 KB on the wire and 120 MB as RGB pixels (several
times that through conversion and downscaling). It is refused from its header (413
``image-too-large``) at the enrolment and the exam-frame routes, and nothing is stored: no
template, no check. A truncated or garbage file is a 4xx with a reason, never a 500.
"""

from __future__ import annotations

import io
from functools import cache

import pytest
from PIL import Image

from biometrics import engine
from tests.biometrics import photos
from tests.biometrics.harness import (
    ENROLMENTS,
    FrameMaker,
    send_frame,
    send_liveness,
    template_row,
)


@cache
def forty_megapixels() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8000, 5000), (200, 180, 160)).save(buf, format="PNG")
    return buf.getvalue()


def truncated_jpeg() -> bytes:
    data = photos.raw("obama/obama_1.jpg")
    return data[: len(data) // 3]  # a valid header, a third of the scan


def _photo(name: str, data: bytes, ctype: str) -> list:
    return [("photos", (name, data, ctype))]


def _assert_too_large(r) -> None:
    assert r.status_code == 413, r.text[:300]
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/image-too-large")


def test_the_bomb_is_small_on_the_wire():
    assert len(forty_megapixels()) < 200_000  # well within every upload limit


@pytest.mark.parametrize(
    ("size", "refused"),
    [
        ((8000, 5000), True),  # 40 Mpx
        ((4000, 4001), True),  # just over the pixel budget
        ((6001, 100), True),  # a side over the limit
        ((4032, 3024), False),  # a 12 Mpx phone photo
        ((4608, 3456), False),  # a 16 Mpx phone photo
    ],
)
def test_the_pixel_budget_is_read_from_the_header(size, refused):
    buf = io.BytesIO()
    Image.new("L", size, 128).save(buf, format="PNG")
    if refused:
        with pytest.raises(engine.ImageRejected) as err:
            engine.load_image(buf.getvalue())
        assert (err.value.code, err.value.status) == ("too_many_pixels", 413)
    else:
        assert engine.load_image(buf.getvalue()).shape[2] == 3


def test_enrolment_refuses_a_decompression_bomb_and_stores_nothing(bio, db_url):
    person, _ = bio.person()
    bio.consent(person)
    r = bio.client.post(
        ENROLMENTS,
        files=_photo("bomb.png", forty_megapixels(), "image/png"),
        headers=bio.headers(person),
    )
    _assert_too_large(r)
    assert template_row(bio, person) is None
    # a truncated photo and garbage are reasons, not errors
    for data in (truncated_jpeg(), b"\x89PNG\r\n\x1a\n" + b"\xff" * 200):
        r = bio.client.post(
            ENROLMENTS, files=_photo("a.jpg", data, "image/jpeg"), headers=bio.headers(person)
        )
        assert r.status_code == 422, r.text[:300]
        assert r.json()["photos"][0]["reasons"] == ["not_an_image"]
    assert template_row(bio, person) is None


def _frames(bio, exam: str, proctor, taker) -> list:
    view = bio.client.get(f"/api/v1/exams/sessions/{exam}", headers=bio.headers(proctor)).json()
    (t,) = [t for t in view["takers"] if t["person_id"] == str(taker)]
    return [e for e in t["timeline"] if e["kind"] == "frame"]


def test_exam_frames_refuse_a_decompression_bomb_and_record_nothing(bio, db_url):
    make = FrameMaker()
    proctor, student, exam = bio.enrolled_taker()
    start = f"/api/v1/exams/sessions/{exam}/start"

    # liveness frames go through the same decoder
    challenge = bio.client.post(start, headers=bio.headers(student)).json()["challenge"]
    frames = make.performing(challenge["actions"])
    r = send_liveness(bio, exam, student, challenge["nonce"], [forty_megapixels(), *frames[1:]])
    _assert_too_large(r)

    challenge = bio.client.post(start, headers=bio.headers(student)).json()["challenge"]
    r = send_liveness(bio, exam, student, challenge["nonce"], make.performing(challenge["actions"]))
    assert r.status_code == 200 and r.json()["passed"] is True, r.text

    _assert_too_large(send_frame(bio, exam, student, forty_megapixels()))
    for data in (truncated_jpeg(), b"GIF89a" + b"\x00" * 100, b"\x00" * 1000):
        r = send_frame(bio, exam, student, data)
        assert r.status_code == 422, r.text[:300]
        assert r.json()["type"].endswith("/bad-frame")
    assert _frames(bio, exam, proctor, student) == []  # nothing was recorded
    assert send_frame(bio, exam, student, make.frontal()).json()["result"] == "match"
    assert len(_frames(bio, exam, proctor, student)) == 1
