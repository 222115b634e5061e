"""The authority pages in a real browser (Debian Chromium), at phone width (390 px): the consent
screen an e-diary sends a parent to, the hosted signing page with its confirmation of a refusal,
and «Приложения с доступом» in the cabinet with its revoke button. Each page: Russian only (no
machine keys), no horizontal scroll, no console error, no CSP violation; screenshots kept in
the test's tmp dir.
"""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from propusk.db import session_scope
from propusk.demo import seed as seed_demo
from tests.browsing import pkce
from tests.conftest import needs_tool, start_live_server
from tests.e2e.csp import CspWatch
from tests.e2e.test_browser_cabinet import CHROMIUM, PARENT
from tests.e2e.test_browser_cabinet import browser as browser  # the module's Chromium (fixture)

pytestmark = needs_tool(bool(shutil.which(CHROMIUM)), "Debian chromium is not installed")
REDIRECT = "https://diary.example/cb"
BACK = "https://operator.example/signed"
# What a person must never see: catalogue, scope, state and protocol keys, English errors.
MACHINE = re.compile(
    r"person\.fullname|attestation\.online|consents\.read|offline_access|consent_pending|"
    r"esia:pwd|urn:propusk|invalid_|Traceback|undefined|null\b"
)


@pytest.fixture(scope="module")
def live(sqlite_database) -> Iterator[tuple]:
    server, rt = start_live_server(sqlite_database, upstream="simulator", demo=True)
    try:
        seed_demo(rt.settings)
        yield server.url, rt
    finally:
        server.stop()
        rt.dispose()


def _diary(rt) -> str:
    from idp.oidc import service

    with session_scope(rt.sessionmaker) as s:
        row, _ = service.create_client(
            s,
            name="Электронный дневник «Школа+»",
            grant_types=["authorization_code"],
            redirect_uris=[REDIRECT],
            scopes=["openid", "profile", "children", "consents.read"],
        )
        return row.client_id


def _request_for_child(url: str, rt) -> str:
    """The demo operator's consent request for the parent's child (through the API)."""
    from consent import service as consent
    from idp import service as idp
    from idp.oidc import service as oidc
    from tests.consent.conftest import org_fields, template_fields

    with session_scope(rt.sessionmaker) as s:
        consent.load_catalogue(s)
        row, secret = oidc.create_client(
            s,
            name="op-" + secrets.token_hex(3),
            grant_types=["client_credentials"],
            return_uris=[BACK],
        )
        org = consent.register_organization(
            s, org_fields(name="ООО «Олимпиады»", client_id=row.client_id), actor="test"
        )
        tpl = consent.publish_template(s, org, template_fields(), actor="test")
        parent = idp.get_person_by_oid(s, PARENT)
        (child,) = idp.children_of(s, parent.id)
        client_id, template_id, child_id = row.client_id, str(tpl.id), str(child.id)
    token = httpx.post(
        url + "/oauth2/token", auth=(client_id, secret), data={"grant_type": "client_credentials"}
    ).json()["access_token"]
    r = httpx.post(
        url + "/api/v1/consent/requests",
        headers={"Authorization": f"Bearer {token}"},
        json={"template_id": template_id, "subject_id": child_id},
    )
    assert r.status_code == 201, r.text
    return r.json()["signing_url"]


def _check(page, watch: CspWatch, where: str, shots: Path) -> str:
    """The page as a person sees it: Russian, fits 390 px, no errors; returns its text."""
    page.screenshot(path=str(shots / f"{where}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{where}: {width} px wide at 390"
    text = page.inner_text("body")
    assert not MACHINE.search(text), f"{where}: {MACHINE.search(text).group(0)!r} visible"
    watch.assert_clean(where)
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

    # 2. the operator's signing page: read, refuse → asked to confirm → go back, sign
    signing = _request_for_child(url, rt) + "?" + urlencode({"return_uri": BACK, "state": "x"})
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
        page.click("button[value=sign]")
    assert "result=given" in signed.value.url and "state=x" in signed.value.url

    # 3. the cabinet lists the e-diary; revoking it asks first and says it is done (a new tab:
    # the last one is on its way to the operator's site, which is not on this machine)
    page, watch = _tab(context, errors)
    page.goto(url + "/cabinet")
    page.wait_for_selector("#applications .card")
    _check(page, watch, "cabinet-applications", tmp_path)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#applications button:has-text('Отозвать доступ')")
    page.wait_for_selector("#applications .notice")
    assert "отозван" in page.inner_text("#applications")
    _check(page, watch, "cabinet-application-revoked", tmp_path)
    assert errors == []
    context.close()
