"""The authority pages in a real browser (Debian Chromium), at phone width (390 px): the consent
screen an e-diary sends a parent to, the hosted signing page with its confirmation of a refusal,
and «Приложения с доступом» in the cabinet with its revoke button. Each page: Russian only (no
machine keys), no horizontal scroll, no console error, no CSP violation; screenshots kept in
the test's tmp dir.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from propusk.db import session_scope
from tests.browsing import pkce
from tests.e2e.chromium import needs_chromium
from tests.e2e.csp import CspWatch
from tests.e2e.pagecheck import check_page
from tests.e2e.people import PARENT

pytestmark = needs_chromium
REDIRECT = "https://diary.example/cb"
BACK = "https://operator.example/signed"
# What a person must never see: catalogue, scope, state and protocol keys, English errors.
MACHINE = re.compile(
    r"person\.fullname|attestation\.online|consents\.read|offline_access|consent_pending|"
    r"esia:pwd|urn:propusk|invalid_|Traceback|undefined|null\b"
)


@pytest.fixture(scope="module")
def live(demo_site) -> tuple:
    return demo_site


def _diary(rt) -> str:
    from idp.oidc import clients

    with session_scope(rt.sessionmaker) as s:
        row, _ = clients.create_client(
            s,
            name="Электронный дневник «Школа+»",
            grant_types=["authorization_code"],
            redirect_uris=[REDIRECT],
            scopes=["openid", "profile", "children", "consents.read"],
        )
        return row.client_id


class Operator:
    """A registered operator (with a published template) asking for the parent's child's
    consent and pulling the child's data, through the API with its own client token."""

    def __init__(self, url: str, rt) -> None:
        from consent import catalogue, parties, templates
        from idp import guardianship, identity
        from idp.oidc import clients
        from tests.support.consent_world import org_fields, template_fields

        with session_scope(rt.sessionmaker) as s:
            catalogue.load_catalogue(s)
            row, secret = clients.create_client(
                s,
                name="op-" + secrets.token_hex(3),
                grant_types=["client_credentials"],
                return_uris=[BACK],
            )
            org = parties.register_organization(
                s, org_fields(name="ООО «Олимпиады»", client_id=row.client_id), actor="test"
            )
            self.template = str(
                templates.publish_template(s, org, template_fields(), actor="test").id
            )
            parent = identity.get_person_by_oid(s, PARENT)
            (child,) = guardianship.children_of(s, parent.id)
            self.child = str(child.id)
        token = httpx.post(
            url + "/oauth2/token",
            auth=(row.client_id, secret),
            data={"grant_type": "client_credentials"},
        ).json()["access_token"]
        self.url, self.headers = url, {"Authorization": f"Bearer {token}"}

    def request(self) -> str:
        """A new request for the child; its signing URL."""
        r = httpx.post(
            self.url + "/api/v1/consent/requests",
            headers=self.headers,
            json={"template_id": self.template, "subject_id": self.child},
        )
        assert r.status_code == 201, r.text
        return r.json()["signing_url"]

    def pull(self, purpose: str, categories: str) -> int:
        r = httpx.get(
            f"{self.url}/api/v1/subjects/{self.child}/data",
            headers=self.headers,
            params={"purpose": purpose, "categories": categories},
        )
        return r.status_code


def _check(page, watch: CspWatch, where: str, shots: Path) -> str:
    """The page as a person sees it: Russian, fits 390 px, no errors; returns its text."""
    page.screenshot(path=str(shots / f"{where}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{where}: {width} px wide at 390"
    text = page.inner_text("body")
    assert not MACHINE.search(text), f"{where}: {MACHINE.search(text).group(0)!r} visible"
    watch.assert_clean(where)
    check_page(page, where)  # and as every page is judged: axe-core, English, both widths
    page.set_viewport_size({"width": 390, "height": 800})
    return text


def _tab(context, errors: list[str]):
    """A page of the context with its CSP watch; page and console errors go to ``errors``."""
    page = context.new_page()
    watch = CspWatch(page)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if _bad(m, page) else None)
    return page, watch


def _bad(message, page) -> bool:
    """A console error of one of our pages (not the browser's own page for an unreachable
    relying party, and not the 4xx a refused request logs)."""
    ours = page.url.startswith("http://127.0.0.1")
    return message.type == "error" and ours and "Failed to load resource" not in message.text


def test_a_parent_allows_an_app_signs_for_a_child_and_revokes_the_app(
    live, browser, tmp_path: Path
):
    url, rt = live
    diary = _diary(rt)
    context = browser.new_context(viewport={"width": 390, "height": 800})
    errors: list[str] = []
    page, watch = _tab(context, errors)

    # 1. the e-diary sends the parent to Propusk: ESIA login, then the consent screen
    _, challenge = pkce()
    query = {
        "response_type": "code",
        "client_id": diary,
        "redirect_uri": REDIRECT,
        "scope": "openid profile children consents.read",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page.goto(url + "/oauth2/authorize?" + urlencode(query))
    page.click(f'button[data-oid="{PARENT}"]')
    page.wait_for_selector("form.decision")
    text = _check(page, watch, "consent-screen", tmp_path)
    assert "Электронный дневник «Школа+»" in text and "Смирнов Артём" in text
    assert "diary.example" in text
    page.reload()  # a reload shows the screen again
    page.wait_for_selector("form.decision")
    with page.expect_request(lambda r: r.url.startswith(REDIRECT)) as back:
        page.click("button[value=allow]")
    assert "code=" in back.value.url

    # 2. the operator's signing page: read, refuse → asked to confirm → go back, sign (a new
    # tab: the last one is on its way to the e-diary, which is not on this machine, and its
    # error page would interrupt a navigation started meanwhile)
    operator = Operator(url, rt)
    signing = operator.request() + "?" + urlencode({"return_uri": BACK, "state": "x"})
    page, watch = _tab(context, errors)
    page.goto(signing)
    page.wait_for_selector("article.document")
    text = _check(page, watch, "signing-page", tmp_path)
    assert "ООО «Олимпиады»" in text and "вашего ребёнка" in text and "diary" not in text
    page.click("button[value=refuse]")
    page.wait_for_selector("text=Отказаться от согласия?")
    _check(page, watch, "refusal-confirmation", tmp_path)
    page.click("text=Вернуться к документу")
    page.wait_for_selector("article.document")
    with page.expect_request(lambda r: r.url.startswith(BACK)) as signed:
        page.check("#read")
        page.click("button[value=sign]")
    assert "result=given" in signed.value.url and "state=x" in signed.value.url

    # 3. a second request signed from the cabinet's link: the result page, its PDF verified
    # on the public page (a new tab: the last one is on its way to the operator's site, which
    # is not on this machine)
    page, watch = _tab(context, errors)
    page.goto(operator.request())
    page.check("#read")
    page.click("button[value=sign]")
    page.wait_for_selector("text=Скачать подписанный документ")
    _check(page, watch, "sign-result", tmp_path)
    pdf_href = page.get_attribute("a:has-text('Скачать подписанный документ')", "href")
    pdf = context.request.get(url + pdf_href)
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    page.goto(url + "/verify")
    page.set_input_files(
        "#file", {"name": "consent.pdf", "mimeType": "application/pdf", "buffer": pdf.body()}
    )
    page.click("form.verify button")
    page.wait_for_selector("section.verdict")
    text = _check(page, watch, "verify-result", tmp_path)
    assert "Документ подлинный" in text and "действует" in text

    # 4. the operator receives one category and is refused another and a purpose: the child's
    # transfer history renders both in the cabinet (no script error). The parent picks the
    # child while the page's first answer (the parent's own, empty history) is still on its
    # way: when it arrives last it is dropped, not painted over the child's.
    assert operator.pull("attestation.online", "person.fullname,education.grades") == 200
    assert operator.pull("olympiad.registration", "person.fullname") == 403
    late: list = []
    page.route(
        "**/api/v1/me/transfers*",
        lambda r: r.continue_() if "subject=" in r.request.url else late.append(r),
    )
    own_history = "/api/v1/me/transfers"
    with page.expect_request(lambda r: own_history in r.url and "subject=" not in r.url):
        page.goto(url + "/cabinet")  # … its own history asked for, and held
    page.select_option("#subject", operator.child)
    page.wait_for_selector("#transfers .card")
    assert len(late) == 1
    late[0].continue_()
    page.wait_for_load_state("networkidle")
    page.unroute("**/api/v1/me/transfers*")
    history = page.inner_text("#transfers")
    assert "Оценки и результаты аттестации — не передано" in history  # the refused category
    assert "education.grades" not in history
    page.screenshot(path=str(tmp_path / "cabinet-child-transfers.png"), full_page=True)

    # 5. the cabinet lists the e-diary; revoking it asks first and says it is done
    page.goto(url + "/cabinet")
    page.wait_for_selector("#applications .card")
    _check(page, watch, "cabinet-applications", tmp_path)
    page.click("#applications button:has-text('Отозвать доступ')")
    page.click("#confirm-dialog button:has-text('Отозвать доступ')")  # said, then confirmed
    page.wait_for_selector("#cabinet-status:not(.hidden)")
    assert "отозван" in page.inner_text("#cabinet-status")
    _check(page, watch, "cabinet-application-revoked", tmp_path)

    # 6. logging out: a bare logout link asks first; the cabinet's own button does it at once
    page.goto(url + "/oauth2/logout")
    _check(page, watch, "logout-confirmation", tmp_path)
    page.goto(url + "/cabinet")
    page.wait_for_selector("#profile strong")
    page.click("header button:has-text('Выйти')")
    page.wait_for_selector("text=Вы вышли из Пропуска")
    _check(page, watch, "logged-out", tmp_path)
    assert errors == []
    context.close()
