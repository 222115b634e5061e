"""The proctor's console in Chromium: «Мои экзамены», a new session, a live timeline, an alert.

A proctor of a school opens ``/proctor``, creates a session (Moscow time window) picking takers
among the school's students by class, removes one of them before they start (the confirmation
names the student), and watches the session page while two takers are checked on their exam
pages, each in a Chromium whose fake camera plays a clip made from real photos: a genuine
student (the enrolled person's photos) and an impostor (the enrolled student passed the
liveness check, then another person — real photos of someone else — sits in front of the
camera). The impostor's card rises to the top flagged, an alert names them and the beep plays
(WebAudio, once sound is on); the proctor then decides: the form has no default and refuses a
decision without its reason, and records the document the genuine taker showed with its last 4
digits. Another proctor of the school and a student see a refusal in words. Every state:
pagecheck (no console/CSP error, no scroll at 390 px, Russian only, axe) with screenshots in
build/screenshots/test_browser_proctor/.

The liveness check itself is passed over HTTP with the harness's frames from real photos
(``tests/biometrics/harness``): a clip cannot follow a random challenge, and liveness belongs to
another part of the work. The periodic frames come from the taker pages' cameras: each clip
frame carries a little sensor-like noise, so no two grabbed frames are the same picture (the
server refuses a repeated one). This module judges the proctor's side.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from PIL import Image

from tests.biometrics import photos
from tests.biometrics.harness import FrameMaker, send_liveness, served
from tests.e2e.chromium import CHROMIUM, FLAGS, needs_chromium
from tests.e2e.pagecheck import check_page
from tests.e2e.pagecheck import watch as pagecheck_watch

pytestmark = [needs_chromium, pytest.mark.xdist_group("proctor")]

MOSCOW = ZoneInfo("Europe/Moscow")
GENUINE_CLIP = ("obama/obama_1.jpg", "obama/obama_480p.jpg", "obama/obama_720p.jpg")
IMPOSTOR_CLIP = ("biden/biden_1.jpg", "biden/biden_2.jpg")
CLIP_FPS, CLIP_FRAMES = 5, 60  # a 12 s loop: grabs 5 s apart land on one frame after 60 s only
FRAME_INTERVAL = 5  # the taker pages send a frame every 5 s (15 s in production): less waiting


def camera_clip(path: Path, names: tuple[str, ...]) -> Path:
    """A 640×480 Y4M clip (4:2:0) of real photos, each shown for an equal part of the loop,
    every frame with its own faint noise (±2 levels), as a webcam's sensor gives."""
    rng = np.random.default_rng(len(names))
    planes = []
    for name in names:
        img = Image.fromarray(photos.image(name))
        img.thumbnail((640, 480))
        canvas = Image.new("RGB", (640, 480))
        canvas.paste(img, ((640 - img.width) // 2, (480 - img.height) // 2))
        y, cb, cr = canvas.convert("YCbCr").split()
        planes.append((np.asarray(y), np.asarray(cb.resize((320, 240))), cr.resize((320, 240))))
    with path.open("wb") as fh:
        fh.write(f"YUV4MPEG2 W640 H480 F{CLIP_FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for i in range(CLIP_FRAMES):
            y, cb, cr = planes[i * len(planes) // CLIP_FRAMES]
            noisy = np.clip(y.astype(np.int16) + rng.integers(-2, 3, y.shape), 0, 255)
            fh.write(b"FRAME\n")
            for plane in (noisy, cb, np.asarray(cr)):
                fh.write(np.ascontiguousarray(plane, dtype=np.uint8).tobytes())
    return path


def camera(p, clip: Path):
    """A Chromium whose camera plays ``clip`` and whose permission prompt answers yes."""
    fake = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={clip}",
    ]
    return p.chromium.launch(executable_path=CHROMIUM, args=[*FLAGS, "--lang=ru-RU", *fake])


@pytest.fixture
def live(sqlite_database):
    with served(sqlite_database, exam_frame_interval_seconds=FRAME_INTERVAL) as (url, bio):
        yield url, bio


@pytest.fixture
def people(live):
    """A school with its proctor, three enrolled students of 9А (and one of 10Б)."""
    _, bio = live
    school = bio.school()
    proctor = bio.proctor(school)
    genuine = bio.student(school, name=("Соколова", "Анна"), class_name="9А")
    impostor = bio.student(school, name=("Петров", "Илья"), class_name="9А")
    dropped = bio.student(school, name=("Лебедев", "Артём"), class_name="9А")
    bio.student(school, name=("Орлова", "Вера"), class_name="10Б")
    for person, photo in ((genuine, "obama/obama_1.jpg"), (impostor, "obama/obama_720p.jpg")):
        bio.consent(person)
        bio.enrol(person, photo)
    other = bio.proctor(school)  # a proctor of the same school, not of the session
    return {
        "proctor": proctor,
        "other": other,
        "genuine": genuine,
        "impostor": impostor,
        "dropped": dropped,
    }


def _window() -> tuple[str, str, str]:
    """Today's Moscow date and a window from a minute ago to an hour on (ending by 23:59)."""
    now = datetime.now(MOSCOW) - timedelta(minutes=1)
    closes = min(now + timedelta(hours=1), now.replace(hour=23, minute=59))
    return now.strftime("%Y-%m-%d"), now.strftime("%H:%M"), closes.strftime("%H:%M")


def _liveness(bio, exam: str, who, make: FrameMaker) -> None:
    start = bio.client.post(f"/api/v1/exams/sessions/{exam}/start", headers=bio.headers(who))
    challenge = start.json()["challenge"]
    r = send_liveness(bio, exam, who, challenge["nonce"], make.performing(challenge["actions"]))
    assert r.json()["passed"], r.text


def _only_the_refusal(page) -> None:
    """The page's only console errors are Chromium's notes of the API's 403 — the refusal this
    state shows — and nothing else (no CSP violation, no page error)."""
    problems = pagecheck_watch(page).take()
    assert problems and all(
        p.startswith("console error: Failed to load resource") and "403" in p for p in problems
    ), problems


def _card(page, name: str):
    return page.locator("section.taker", has_text=name)


def _taker_page(browser, url: str, bio, exam: str, who):
    """The taker's exam page, started: liveness already passed, so it sends a frame from the
    camera every few seconds."""
    page = browser.new_page(locale="ru-RU")
    page.set_extra_http_headers(bio.headers(who))
    page.goto(f"{url}/exams/{exam}/take")
    page.click("#start")
    page.wait_for_function(
        "() => document.getElementById('status').textContent.includes('Проверка пройдена')"
    )
    return page


def test_proctor_creates_watches_is_alerted_and_decides(live, people, tmp_path) -> None:
    from playwright.sync_api import sync_playwright

    url, bio = live
    day, opens, closes = _window()
    clips = {
        "genuine": camera_clip(tmp_path / "genuine.y4m", GENUINE_CLIP),
        "impostor": camera_clip(tmp_path / "impostor.y4m", IMPOSTOR_CLIP),
    }
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[*FLAGS, "--lang=ru-RU"])
        cameras = {who: camera(p, clip) for who, clip in clips.items()}
        try:
            page = browser.new_page(locale="ru-RU", timezone_id="Europe/Moscow")
            pagecheck_watch(page)
            page.set_extra_http_headers(bio.headers(people["proctor"]))
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))

            # --- «Мои экзамены»: no session yet, a new one with takers picked by class
            page.goto(f"{url}/proctor")
            page.wait_for_selector("text=Сессий пока нет")
            page.wait_for_selector("#picker .picker-list li")
            check_page(page, "my-exams-empty")
            page.fill("#course", "Математика")
            page.fill("#title", "Контрольная за полугодие")
            page.fill("#day", day)
            page.fill("#opens", opens)
            page.fill("#closes", closes)
            page.select_option("#picker-class", "9А")
            page.wait_for_function(
                "() => document.querySelectorAll('#picker .picker-list')[0].children.length === 3"
            )
            for name in ("Соколова Анна", "Петров Илья", "Лебедев Артём"):
                page.click(f"button[aria-label='Добавить: {name}, 9А класс']")
            page.wait_for_selector("text=Выбрано: 3 участника")
            check_page(page, "new-session-form")
            page.click("#create button[type=submit]")
            page.wait_for_url("**/exams/*/proctor")
            exam = page.url.rstrip("/").split("/")[-2]

            # --- the session: three takers, one removed before starting
            page.wait_for_selector("section.taker >> nth=2")
            assert "Контрольная за полугодие" in page.inner_text("#exam-title")
            assert "(идёт)" in page.inner_text("#exam-meta")
            check_page(page, "session-new")
            _card(page, "Лебедев Артём").locator("button.remove").click()
            page.wait_for_function("() => document.querySelectorAll('section.taker').length === 2")
            assert dialogs == ["Убрать участника Лебедев Артём, 9А класс из этой сессии?"]
            page.click("#sound")
            page.wait_for_selector("text=Звук включён")

            # --- the takers are checked: the genuine one matches, the impostor is flagged
            make = FrameMaker()
            for who in ("genuine", "impostor"):
                _liveness(bio, exam, people[who], make)
                _taker_page(cameras[who], url, bio, exam, people[who])
            page.wait_for_selector("#alerts .alert", timeout=90_000)
            alert = page.inner_text("#alerts")
            assert "Петров Илья" in alert and "Соколова" not in alert
            first = page.locator("section.taker").first
            assert "Петров Илья" in first.inner_text()
            assert "attention-0" in first.get_attribute("class")
            assert page.evaluate("() => audio !== null && audio.state === 'running'")
            # the enrolment photo next to the latest checked frame, both shown
            for name in ("Петров Илья", "Соколова Анна"):
                card = _card(page, name)
                card.locator("img").nth(1).wait_for()
                loaded = card.locator("img").evaluate_all(
                    "imgs => imgs.map((i) => i.complete && i.naturalWidth > 0)"
                )
                assert loaded == [True, True], (name, loaded)
            page.wait_for_function(
                "() => /совпадений: [1-9]/.test([...document.querySelectorAll('section.taker')]"
                ".find((s) => s.textContent.includes('Соколова Анна')).textContent)",
                timeout=60_000,
            )
            assert "Флагов нет." in _card(page, "Соколова Анна").inner_text()
            check_page(page, "session-flagged")

            # --- the decision: no default, a reason needed, the document's last 4 digits
            impostor = _card(page, "Петров Илья")
            impostor.locator("summary").click()
            assert impostor.locator("select[name=decision]").input_value() == ""
            impostor.locator("button[type=submit]").click()
            impostor.locator("text=Выберите решение.").wait_for()
            impostor.locator("select[name=decision]").select_option("rejected")
            impostor.locator("button[type=submit]").click()
            impostor.locator("text=Укажите основание решения.").wait_for()
            check_page(page, "decision-needs-reason")
            impostor.locator("[name=note]").fill("на кадрах другой человек, не совпадает с фото")
            impostor.locator("button[type=submit]").click()
            page.wait_for_selector("text=Решение по участнику Петров Илья, 9А класс записано")

            genuine = _card(page, "Соколова Анна")
            genuine.locator("summary").click()
            genuine.locator("select[name=decision]").select_option("verified")
            genuine.locator("[name=note]").fill("лицо совпадает, паспорт предъявлен")
            genuine.locator("select[name=document]").select_option("passport")
            genuine.locator("[name=last4]").fill("12a4")
            genuine.locator("button[type=submit]").click()
            genuine.locator("text=ровно четыре цифры").wait_for()
            genuine.locator("[name=last4]").fill("4821")
            genuine.locator("[name=same_face]").check()
            genuine.locator("button[type=submit]").click()
            page.wait_for_selector("text=Решение по участнику Соколова Анна, 9А класс записано")
            page.wait_for_function(
                "() => [...document.querySelectorAll('section.taker')]"
                ".every((s) => s.classList.contains('attention-3'))"
            )
            assert "паспорт гражданина РФ, …4821" in _card(page, "Соколова Анна").inner_text()
            check_page(page, "session-decided")

            # --- back to the list: the session with its counts
            page.click("text=← Мои экзамены")
            page.wait_for_selector("table.cards")
            row = page.inner_text("table.cards")
            assert "Контрольная за полугодие" in row and "2 всего, начали 2, решений 2" in row
            check_page(page, "my-exams")

            # --- another proctor of the school: not this session; the taker: no console
            other = browser.new_page(locale="ru-RU", timezone_id="Europe/Moscow")
            pagecheck_watch(other)
            other.set_extra_http_headers(bio.headers(people["other"]))
            other.goto(f"{url}/exams/{exam}/proctor")
            other.wait_for_selector("text=ведёт другой проктор")
            assert other.locator("section.taker").count() == 0
            _only_the_refusal(other)
            check_page(other, "other-proctor-refused")
            other.set_extra_http_headers(bio.headers(people["genuine"]))
            other.goto(f"{url}/proctor")
            other.wait_for_selector("text=Вы не назначены проктором ни в одной школе")
            assert other.locator("#create").is_hidden()
            _only_the_refusal(other)
            check_page(other, "student-no-console")
        finally:
            for b in (browser, *cameras.values()):
                b.close()

    view = bio.client.get(
        f"/api/v1/exams/sessions/{exam}", headers=bio.headers(people["proctor"])
    ).json()
    decisions = {t["name"]: t["decision"] for t in view["takers"]}
    assert decisions["Петров Илья"]["decision"] == "rejected"
    assert decisions["Петров Илья"]["basis"]["flags"] == ["mismatch"]
    document = decisions["Соколова Анна"]["basis"]["identity_document"]
    assert document == {"type": "passport", "number_last4": "4821", "matches_photo": True}
