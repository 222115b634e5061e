"""The face engine, quality checks and the evaluate command on the real developer face set."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image, ImageFilter
from typer.testing import CliRunner

from biometrics import engine, quality
from biometrics.evaluate import labelled_pairs, write_pairs
from propusk.settings import Settings
from tests.support.settings import FACES


def _analyze(name: str) -> tuple[np.ndarray, engine.Analysis]:
    img = engine.load_image((FACES / name).read_bytes())
    return img, engine.analyze(img)


def _jpeg(img: np.ndarray, **save) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", **save)
    return buf.getvalue()


def test_developer_set_has_no_false_match_or_non_match_at_the_shipped_threshold(tmp_path):
    from propusk.cli import app

    pairs = labelled_pairs(FACES / "labels.csv")
    csv_path = tmp_path / "pairs.csv"
    write_pairs(pairs, csv_path, FACES)
    result = CliRunner().invoke(app, ["biometrics", "evaluate", str(csv_path)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["threshold"] == Settings().face_threshold
    assert report["genuine_pairs"] == 47 and report["impostor_pairs"] == 331
    assert report["false_matches"] == 0 and report["false_non_matches"] == 0
    assert report["fmr"] == 0.0 and report["fnmr"] == 0.0
    assert report["failure_to_acquire"] == 0
    assert report["max_genuine_distance"] < report["threshold"] < report["min_impostor_distance"]
    assert len(report["distances"]) == 378
    assert all(isinstance(r["distance"], float) for r in report["distances"])


def test_evaluate_reports_failure_to_acquire_and_rejects_a_malformed_file(tmp_path):
    from propusk.cli import app

    (tmp_path / "noface.png").write_bytes(_png(np.full((200, 200, 3), 128, np.uint8)))
    (tmp_path / "junk.jpg").write_bytes(b"not an image at all")
    a = tmp_path / "a.jpg"
    a.write_bytes((FACES / "obama/obama_small.jpg").read_bytes())
    good = tmp_path / "pairs.csv"
    good.write_text("a.jpg,noface.png,1\na.jpg,junk.jpg,0\na.jpg,a.jpg,1\n")
    result = CliRunner().invoke(app, ["biometrics", "evaluate", str(good), "--threshold", "0.5"])
    report = json.loads(result.stdout)
    assert report["failure_to_acquire"] == 2
    assert report["failed_images"] == {"junk.jpg": "not_an_image", "noface.png": "no_face"}
    assert report["genuine_pairs"] == 1 and report["distances"][2]["distance"] == 0.0
    bad = tmp_path / "bad.csv"
    bad.write_text("a.jpg,b.jpg,maybe\n")
    result = CliRunner().invoke(app, ["biometrics", "evaluate", str(bad)])
    assert result.exit_code == 2


def _png(img: np.ndarray, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img, mode=mode).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "faces"),
    [("multi/two_people.jpg", 2), ("multi/obama_and_biden.jpg", 3), ("multi/kit_with_rose.jpg", 2)],
)
def test_multi_face_photos_are_flagged(name, faces):
    img, analysis = _analyze(name)
    assert len(analysis.faces) == faces
    assert quality.assess(img, analysis).reasons == ("several_faces",)


def test_partial_faces_are_detected_and_still_match_the_person():
    _, reference = _analyze("obama/obama_1.jpg")
    for name in ("edge/obama_partial_face_1.jpg", "edge/obama_partial_face_2.jpg"):
        _, analysis = _analyze(name)
        assert len(analysis.faces) == 1
        d = engine.distance(reference.faces[0].encoding, analysis.faces[0].encoding)
        assert d <= Settings().face_threshold


def test_32bit_png_is_composited_to_rgb_and_matches_its_jpeg_twin():
    raw = Image.open(FACES / "edge/32bit.png")
    assert raw.mode == "RGBA"
    img, analysis = _analyze("edge/32bit.png")
    assert img.dtype == np.uint8 and img.shape[2] == 3
    _, twin = _analyze("obama/obama_2.jpg")
    assert engine.distance(analysis.faces[0].encoding, twin.faces[0].encoding) < 0.1


def test_exif_orientation_is_applied():
    upright = engine.load_image((FACES / "obama/obama_small.jpg").read_bytes())
    rotated = np.ascontiguousarray(np.rot90(upright, k=-1))  # stored sideways, as phones do
    exif = Image.Exif()
    exif[0x0112] = 8  # viewer rotates 90° counter-clockwise
    data = _jpeg(rotated, exif=exif.tobytes(), quality=95)
    img = engine.load_image(data)
    assert img.shape == upright.shape
    assert len(engine.analyze(img, encode_faces=False).faces) == 1


def test_large_images_are_downscaled_to_max_side():
    img = engine.load_image((FACES / "obama/obama_3.jpg").read_bytes())
    assert max(img.shape[:2]) == engine.DEFAULT_CONFIG.max_side


@pytest.mark.parametrize(
    ("data", "code", "status"),
    [
        (b"", "empty", 422),
        (b"%PDF-1.4 definitely not a photo", "not_an_image", 422),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "not_an_image", 422),  # truncated JPEG
        (b"x" * (engine.DEFAULT_CONFIG.max_bytes + 1), "too_large", 413),
    ],
)
def test_bad_uploads_are_rejected_with_a_reason(data, code, status):
    with pytest.raises(engine.ImageRejected) as err:
        engine.load_image(data)
    assert (err.value.code, err.value.status) == (code, status)


def test_pixel_bombs_and_unsupported_formats_are_rejected():
    bomb = io.BytesIO()
    Image.new("L", (8000, 8000)).save(bomb, format="PNG")  # 64 Mpx in a few kB
    with pytest.raises(engine.ImageRejected) as err:
        engine.load_image(bomb.getvalue())
    assert err.value.code == "too_many_pixels" and err.value.status == 413
    gif = io.BytesIO()
    Image.new("RGB", (64, 64)).save(gif, format="GIF")
    with pytest.raises(engine.ImageRejected) as err:
        engine.load_image(gif.getvalue())
    assert err.value.code == "unsupported_format"


def test_quality_rejects_dark_blurred_and_small_faces_with_reasons():
    img, analysis = _analyze("obama/obama_1.jpg")
    assert quality.assess(img, analysis).ok
    dark = (img * 0.25).astype(np.uint8)
    assert quality.assess(dark, engine.analyze(dark, encode_faces=False)).reasons == ("too_dark",)
    blurred = np.asarray(Image.fromarray(img).filter(ImageFilter.GaussianBlur(8)))
    blurred_q = quality.assess(blurred, engine.analyze(blurred, encode_faces=False))
    assert blurred_q.reasons == ("blurred",)
    small, small_analysis = _analyze("obama/obama_240p.jpg")
    assert quality.assess(small, small_analysis).reasons == ("face_too_small",)
    empty = np.full((300, 300, 3), 128, np.uint8)
    assert quality.assess(empty, engine.analyze(empty)).reasons == ("no_face",)


def test_templates_pack_and_unpack_within_float32_precision():
    _, a = _analyze("obama/obama_small.jpg")
    enc = a.faces[0].encoding
    (back,) = engine.unpack_encodings(engine.pack_encodings([enc]))
    assert engine.distance(enc, back) < 1e-5
