"""The taker page and proctor view in a real browser (Debian Chromium, fake camera device).

Chromium's fake camera plays a Y4M file made from one real photo: a still picture fed as a
webcam, which is what a photo held up or a virtual camera looks like. The taker page captures
the liveness frames and the server refuses them (identical frames); the proctor view then shows
the failed attempt and records a decision through its form.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from propusk.messages import check_text
from tests.biometrics import photos
from tests.biometrics.harness import FrameMaker, send_liveness, served
from tests.e2e.csp import CspWatch
from tests.support.settings import needs_tool

CHROMIUM = "/usr/bin/chromium"

pytestmark = needs_tool(bool(shutil.which(CHROMIUM)), "Debian chromium is not installed")


def still_video(path: Path) -> Path:
    """A 640×480 YUV4MPEG2 (4:2:0) clip of one real photo, repeated."""
    img = Image.fromarray(photos.image("obama/obama_480p.jpg"))
    img.thumbnail((640, 480))
    canvas = Image.new("RGB", (640, 480))
    canvas.paste(img, ((640 - img.width) // 2, (480 - img.height) // 2))
    y, cb, cr = canvas.convert("YCbCr").split()
    planes = [np.asarray(y), np.asarray(cb.resize((320, 240))), np.asarray(cr.resize((320, 240)))]
    with path.open("wb") as fh:
        fh.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(10):
            fh.write(b"FRAME\n")
            for plane in planes:
                fh.write(np.ascontiguousarray(plane, dtype=np.uint8).tobytes())
    return path


@pytest.fixture
def live(sqlite_database):
    with served(sqlite_database) as (url, bio):
        yield url, bio


def test_still_camera_is_refused_and_proctor_decides_in_the_browser(live, tmp_path):
    from playwright.sync_api import sync_playwright

    url, bio = live
    proctor, student, exam_id = bio.enrolled_taker()
    # A first attempt over HTTP with distinct frontal frames (no action performed) leaves
    # liveness checks, which the proctor view draws as coloured marks.
    make = FrameMaker()
    start = bio.client.post(f"/api/v1/exams/sessions/{exam_id}/start", headers=bio.headers(student))
    first = send_liveness(
        bio,
        exam_id,
        student,
        start.json()["challenge"]["nonce"],
        [make.frontal() for _ in range(4)],
    )
    assert first.json()["reason"] == "actions_not_performed", first.text
    video = still_video(tmp_path / "still.y4m")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=flags)
        try:
            taker = browser.new_page()
            taker_csp = CspWatch(taker)
            taker.set_extra_http_headers(bio.headers(student))
            taker.goto(f"{url}/exams/{exam_id}/take")
            taker.click("#start")
            taker.wait_for_function(
                # a function, not an expression: Playwright evals an expression string, which the
                # page's policy (no 'unsafe-eval') refuses
                "() => document.getElementById('status').textContent.includes('Не получилось')",
                timeout=60_000,
            )
            status = taker.inner_text("#status")  # the reason in Russian, never its code
            assert check_text("replayed_frames") in status and "replayed" not in status
            taker_csp.assert_clean("the taker page")  # its styles are a file (exam.css)
            assert taker.eval_on_selector("#camera", "v => getComputedStyle(v).transform") != "none"
            taker.close()

            view = browser.new_page()
            view_csp = CspWatch(view)
            view.set_extra_http_headers(bio.headers(proctor))
            view.goto(f"{url}/exams/{exam_id}/proctor")
            view.wait_for_selector("section.taker summary")
            text = view.inner_text("#session")
            assert "по лицу" in text and "перед камерой: не пройдена" in text
            assert check_text("replayed_frames") in text  # the last liveness reason
            marks = view.locator(".timeline .mark-match")
            assert marks.count() == 4  # coloured by class: no inline style under the policy
            colour = marks.first.evaluate("m => getComputedStyle(m).backgroundColor")
            assert colour == "rgb(46, 125, 50)"
            view.click("section.taker summary")
            view.select_option("section.taker select[name=decision]", "manual_check")
            view.fill("section.taker [name=note]", "кадры с камеры одинаковые")
            view.click("section.taker button[type=submit]")
            view.wait_for_function(
                "() => document.getElementById('notice').textContent.includes('записано')"
            )
            view.wait_for_selector("text=Решение: ручная проверка")
            view_csp.assert_clean("the proctor view")
        finally:
            browser.close()
    state = bio.client.get(f"/api/v1/exams/sessions/{exam_id}", headers=bio.headers(proctor))
    (t,) = state.json()["takers"]
    assert t["liveness"]["last_reason"] == "replayed_frames"
    assert t["decision"]["decision"] == "manual_check"
    assert t["decision"]["basis"]["note"] == "кадры с камеры одинаковые"
