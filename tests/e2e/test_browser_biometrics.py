"""The cabinet's biometrics and exams sections in Chromium, with a fake camera.

An adult student (demo person Соколова Екатерина) logs in through the ESIA simulator; an operator
asks her for the written biometric consent (the real consent services, against the live
server's database) and a proctor of her school opens an exam. In the cabinet she opens the
request from the biometrics section, signs it on the signing page, comes back, enrols with the
camera — Chromium's fake device playing a clip that ffmpeg made from three real photos of one
person — sees «зарегистрирован», deletes the template after the confirmation and follows the
exam link. A parent whose browser has no camera at all enrols their 17-year-old with photo
files instead, and sees a refused photo explained. Every page: no console error, no page error,
no CSP violation, nothing of the two sections wider than 390 px; screenshots at 1280 and 390 px
wide go to build/screenshots/biometrics/."""

from __future__ import annotations

import random
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from biometrics import enrolment, exams
from idp import identity, schools, statuses
from propusk.db import session_scope, utcnow
from tests.biometrics.harness import Bio
from tests.e2e.chromium import CHROMIUM, FLAGS, needs_chromium
from tests.e2e.csp import CspWatch
from tests.e2e.pagecheck import check_page
from tests.e2e.pagecheck import watch as pagecheck_watch
from tests.support.settings import FACES, needs_tool

pytestmark = [needs_chromium, needs_tool(bool(shutil.which("ffmpeg")), "ffmpeg is not installed")]

ADULT = "1000400015"  # Соколова Екатерина, 11Б, 18 years old
TEEN = "1000400013"  # Волкова Полина, 17
TEEN_PARENT = "1000400024"  # Волков Виктор
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots" / "biometrics"
CLIP = ("obama/obama_1.jpg", "obama/obama_480p.jpg", "obama/obama_720p.jpg")


# --- the fake camera and the browser ------------------------------------------------------


def camera_clip(path: Path) -> Path:
    """A 640×480 Y4M clip (10 fps, one second per photo) of real photos of one person."""
    inputs, chains = [], []
    for i, name in enumerate(CLIP):
        inputs += ["-loop", "1", "-t", "1", "-i", str(FACES / name)]
        chains.append(
            f"[{i}:v]scale=640:480:force_original_aspect_ratio=decrease,"
            f"pad=640:480:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=10[v{i}]"
        )
    joined = "".join(f"[v{i}]" for i in range(len(CLIP)))
    graph = ";".join(chains) + f";{joined}concat=n={len(CLIP)}:v=1:a=0,format=yuv420p[out]"
    output = ["-map", "[out]", "-f", "yuv4mpegpipe", str(path)]
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", *inputs, "-filter_complex", graph, *output],
        check=True,
        timeout=120,
    )
    return path


@pytest.fixture(scope="module")
def chromiums(tmp_path_factory):
    """(plain Chromium, Chromium whose camera is the clip and whose permission prompt answers
    yes), from one Playwright: a second sync Playwright cannot run beside the first, so this
    module makes its own ``browser`` too."""
    from playwright.sync_api import sync_playwright

    clip = camera_clip(tmp_path_factory.mktemp("camera") / "face.y4m")
    flags = [
        *FLAGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={clip}",
    ]
    with sync_playwright() as p:
        plain = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        camera = p.chromium.launch(executable_path=CHROMIUM, args=flags)
        yield plain, camera
        camera.close()
        plain.close()


@pytest.fixture(scope="module")
def browser(chromiums):
    """No camera at all (headless Chromium without a fake device)."""
    return chromiums[0]


@pytest.fixture(scope="module")
def camera_browser(chromiums):
    return chromiums[1]


class Watch:
    """Console errors, page errors and CSP violations of one page."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        self.csp = CspWatch(page)
        page.on("console", lambda m: m.type == "error" and self.errors.append(self._where(m)))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

    @staticmethod
    def _where(message) -> str:
        return f"{message.text} ({message.location.get('url', '')})"

    def assert_clean(self, where: str) -> None:
        # The site has no favicon yet (base.html is not this module's): Chromium asks anyway.
        errors = [e for e in self.errors if not e.endswith("/favicon.ico)")]
        assert errors == [], f"{where}: {errors}"
        self.csp.assert_clean(where)


def login(page, url: str, oid: str) -> None:
    page.goto(url + "/cabinet")
    page.click(f'button[data-oid="{oid}"]')  # the ESIA simulator's login page
    page.wait_for_url(url + "/cabinet")
    page.wait_for_selector("#profile strong")


def text_in(page, selector: str, text: str, timeout: int = 60_000) -> None:
    """Wait until the element's text contains ``text`` (a function: the page forbids eval)."""
    page.wait_for_function(
        "([s, t]) => (document.querySelector(s)?.textContent || '').includes(t)",
        arg=[selector, text],
        timeout=timeout,
    )


def shoot(page, name: str) -> None:
    """The whole page judged as every page is (``pagecheck``: no horizontal scroll at 390 px,
    no key or English, axe-core), screenshots at 1280 and 390 px in build/screenshots/."""
    check_page(page, name)
    page.set_viewport_size({"width": 1280, "height": 900})


# --- the world, made with the real services against the live server's database -------------


def person_id(rt, oid: str):
    with session_scope(rt.sessionmaker) as s:
        person = identity.get_person_by_oid(s, oid)
        assert person is not None, f"{oid} has not logged in"
        return person.id


@pytest.fixture(scope="module")
def consents(demo_site) -> Bio:
    """The biometrics harness on the live server's database: its operator asks for the written
    biometric consent and people sign it as the signing page does (a fresh ESIA login, the
    document shown) — the real consent services, no HTTP."""
    return Bio(client=None, runtime=demo_site[1])


def open_exam(rt, taker_oid: str):
    """A proctor of the taker's school opens an exam from a minute ago for two hours."""
    with session_scope(rt.sessionmaker) as s:
        taker = identity.get_person_by_oid(s, taker_oid)
        school = schools.list_schools(s)[0].id
        if not any(st.school_id == school for st in statuses.active_statuses(s, taker.id)):
            statuses.grant_status(s, taker.id, "student", "roster", school_id=school, actor="test")
        proctor = identity.create_person(
            s,
            str(random.randrange(2 * 10**9, 3 * 10**9)),
            last_name="Зайцева",
            first_name="Ольга",
            birth_date=date(1984, 5, 2),
        )
        statuses.grant_status(s, proctor.id, "teacher", "roster", school_id=school, actor="test")
        statuses.appoint_proctor(s, school, proctor.id, actor="test")
        now = utcnow()
        return exams.create_exam_session(
            s,
            proctor_id=proctor.id,
            school_id=school,
            course="Алгебра, 11 класс",
            title="Итоговая контрольная работа",
            opens_at=now - timedelta(minutes=1),
            closes_at=now + timedelta(hours=2),
            takers=[taker.id],
            keep_frames_days=0,
            now=now,
        ).id


def enrolled(rt, oid: str) -> bool:
    with session_scope(rt.sessionmaker) as s:
        return enrolment.enrolment_status(s, person_id(rt, oid), utcnow())["enrolled"]


# --- the tests ----------------------------------------------------------------------------


def test_an_adult_signs_enrols_with_the_camera_and_deletes_the_template(
    demo_site, camera_browser, consents
):
    url, rt = demo_site
    page = camera_browser.new_page(viewport={"width": 1280, "height": 900})
    watch = Watch(page)
    login(page, url, ADULT)
    text_in(page, "#biometrics", "Согласия на обработку биометрических данных нет")
    text_in(page, "#exams", "Онлайн-экзаменов нет")
    section = page.inner_text("#biometrics")
    assert "Это добровольно" in section and "по документу" in section
    assert page.locator("#bio-camera-start").count() == 0  # no consent: nothing to enrol under
    shoot(page, "no-consent")

    consent_id = consents.request_consent(person_id(rt, ADULT))
    exam_id = open_exam(rt, ADULT)
    page.reload()
    link = page.wait_for_selector("#biometrics a:has-text('Открыть и подписать')")
    assert link.get_attribute("href") == f"/sign/{consent_id}"
    assert "письменное согласие на обработку биометрических данных" in page.inner_text(
        "#biometrics"
    )
    take = page.wait_for_selector("#exams a:has-text('Перейти к экзамену')")
    assert take.get_attribute("href") == f"/exams/{exam_id}/take"
    assert "Итоговая контрольная работа" in page.inner_text("#exams")
    assert "МСК" in page.inner_text("#exams")
    shoot(page, "request")

    link.click()  # the request opens as a document on the signing page
    page.wait_for_selector("article.document")
    assert "биометрических" in page.inner_text("article.document")
    page.check("#read")  # «Я прочитал(а) документ»: the browser stops the form without it
    page.click("form.decision button:has-text('Подписать')")
    page.wait_for_selector("text=Подписано")
    page.goto(url + "/cabinet")
    page.wait_for_selector("#bio-camera-start")
    assert "Действует" in page.inner_text("#biometrics .bio-consent")
    assert "не зарегистрирован" in page.inner_text("#biometrics .bio-status")

    page.click("#bio-camera-start")
    for n in (1, 2, 3):
        page.click("#bio-shot")
        page.wait_for_function(
            "n => document.querySelectorAll('.bio-camera .bio-thumb').length === n", arg=n
        )
    assert page.locator("#bio-shot").is_hidden()  # three shots: the button gives way to «send»
    shoot(page, "camera-shots")
    page.click("#bio-send")
    text_in(page, "#bio-result", "зарегистрирован")
    status = page.inner_text("#biometrics .bio-status")
    assert "Образец лица зарегистрирован" in status and "снимков — 3" in status
    assert enrolled(rt, ADULT)
    shoot(page, "enrolled")

    page.click("#bio-delete")
    confirm = page.locator(".bio-confirm")
    assert confirm.is_visible()
    assert "уничтожен безвозвратно" in confirm.inner_text()
    assert "по документу" in confirm.inner_text()
    shoot(page, "delete-confirm")
    page.click(".bio-confirm button:has-text('Отмена')")
    assert confirm.is_hidden() and enrolled(rt, ADULT)  # cancelling keeps the template
    page.click("#bio-delete")
    page.click(".bio-confirm button:has-text('Да, удалить')")
    text_in(page, "#bio-result", "Образец лица удалён")
    assert "не зарегистрирован" in page.inner_text("#biometrics .bio-status")
    assert not enrolled(rt, ADULT)
    shoot(page, "deleted")
    watch.assert_clean("the adult's cabinet")

    page.click("#exams a:has-text('Перейти к экзамену')")
    page.wait_for_selector("#start")
    watch.assert_clean("the exam page")
    page.close()


def test_a_parent_without_a_camera_enrols_their_teen_with_photo_files(demo_site, browser, consents):
    url, rt = demo_site
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    watch = Watch(page)
    login(page, url, TEEN_PARENT)  # ESIA lists Полина (17): she is on file from now on
    teen = person_id(rt, TEEN)
    consent_id = consents.request_consent(teen)
    assert consents.sign(consent_id, teen) == "partially_given"  # 14–17: she signs, and
    open_exam(rt, TEEN)
    child = str(teen)
    page.select_option("#subject", child)
    link = page.wait_for_selector("#biometrics a:has-text('Открыть и подписать')")
    assert link.get_attribute("href") == f"/sign/{consent_id}"  # the parent signs too
    text_in(page, "#exams", "Итоговая контрольная работа")
    assert page.locator("#exams a:has-text('Перейти к экзамену')").count() == 0
    assert "сдаёт сам" in page.inner_text("#exams")
    assert consents.sign(consent_id, person_id(rt, TEEN_PARENT)) == "given"

    page.reload()
    page.wait_for_selector("#profile strong")
    page.select_option("#subject", child)
    page.wait_for_selector("#bio-camera-start")
    page.click("#bio-camera-start")  # this Chromium has no camera: the files are offered
    text_in(page, "#bio-result", "загрузить фотографии")
    assert page.locator("#bio-manual").get_attribute("open") is not None
    assert page.locator("label[for=bio-files]").inner_text() == "Выбрать фотографии лица"
    page.set_input_files("#bio-files", str(FACES / "kit_harington" / "kit_harington_1.jpeg"))
    page.wait_for_selector("#bio-manual .bio-thumb")
    assert "Выбрано: kit_harington_1.jpeg" in page.inner_text("#bio-manual")
    page.click("#bio-upload")
    text_in(page, "#bio-result", "зарегистрирован")
    assert "снимков — 1" in page.inner_text("#biometrics .bio-status")
    assert enrolled(rt, TEEN)
    shoot(page, "parent-upload")

    # A photo of two people is refused with the reason in words.
    page.click("#bio-manual summary")
    page.set_input_files("#bio-files", str(FACES / "multi" / "two_people.jpg"))
    page.click("#bio-upload")
    text_in(page, "#bio-result", "несколько лиц")
    assert "Снимок 1" in page.inner_text("#bio-result")
    assert "Прежний образец лица остаётся в силе" in page.inner_text("#bio-result")
    assert "several_faces" not in page.inner_text("#biometrics")
    # The browser reports the 422 answer itself; nothing else may be logged.
    logged = pagecheck_watch(page).take()
    assert all("Failed to load resource" in m and "422" in m for m in logged), logged
    shoot(page, "parent-rejected")
    watch.errors = [e for e in watch.errors if "422" not in e]
    watch.assert_clean("the parent's cabinet")
    page.close()
