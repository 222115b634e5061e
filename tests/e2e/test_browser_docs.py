"""The API reference renders in a real browser with no network but this server (Debian Chromium
via Playwright): Swagger UI 5 from the bundled wheel reads our OpenAPI 3.1 schema, and its
«Authorize» button works — an operator's client gets a token at ``/oauth2/token`` from the
page (client credentials) or pastes one (bearer), and «Try it out» calls the API with it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from propusk.db import session_scope
from tests.e2e.chromium import CHROMIUM, FLAGS, needs_chromium
from tests.e2e.csp import CspWatch
from tests.support.servers import start_live_server

pytestmark = needs_chromium

FEED = "#operations-consent-consent_feed_api_v1_consent_feed_get"
TEMPLATE = "#operations-consent-get_template_api_v1_consent_templates__template_id__get"
# console messages a docs page must not log (Chromium's «verbose» DOM hints, such as «Password
# field is not contained in a form» for the dialog's client_secret, are not among them)
BAD = ("error", "warning", "assert")


@pytest.fixture(scope="module")
def site(sqlite_database) -> Iterator[tuple]:
    """A live server: (url, runtime)."""
    server, rt = start_live_server(sqlite_database)
    try:
        yield server.url, rt
    finally:
        server.stop()
        rt.dispose()


@pytest.fixture(scope="module")
def server_url(site) -> str:
    return site[0]


def test_swagger_ui_renders_the_schema_offline(server_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page()
            foreign: list[str] = []
            page.on(
                "request",
                lambda req: None if req.url.startswith(server_url) else foreign.append(req.url),
            )
            page.goto(server_url + "/docs")
            page.wait_for_selector(".opblock-summary-path", timeout=30_000)
            paths = page.locator(".opblock-summary-path").all_inner_texts()
            assert any("/api/v1/subjects/{subject_id}/data" in p for p in paths), paths[:10]
            assert page.locator(".errors-wrapper").count() == 0  # no schema errors shown
            assert foreign == []
        finally:
            browser.close()


# -- «Authorize» -----------------------------------------------------------------------------


class Operator:
    """A registered operator organisation with its OAuth client (client_credentials, a secret
    checked by ``client_secret_basic``, the default) and one published template."""

    def __init__(self, rt) -> None:
        from consent import catalogue, parties, templates
        from idp.oidc import clients
        from tests.support.consent_world import org_fields, template_fields

        with session_scope(rt.sessionmaker) as s:
            catalogue.load_catalogue(s)
            row, self.secret = clients.create_client(
                s, name="op-" + secrets.token_hex(3), grant_types=["client_credentials"]
            )
            self.client_id = row.client_id
            org = parties.register_organization(
                s, org_fields(name="ООО «Документация»", client_id=row.client_id), actor="test"
            )
            self.template_key = "docs.authorize." + secrets.token_hex(4)
            template = templates.publish_template(
                s, org, template_fields(key=self.template_key), actor="test"
            )
            self.template_id = str(template.id)

    def token(self, url: str) -> str:
        r = httpx.post(
            url + "/oauth2/token",
            auth=(self.client_id, self.secret),
            data={"grant_type": "client_credentials"},
        )
        assert r.status_code == 200, r.text
        return r.json()["access_token"]


class Watch:
    """What a docs page does: its requests (all to this server?), the console's errors and
    warnings and uncaught exceptions (none), CSP violations (none)."""

    def __init__(self, page, url: str) -> None:
        self.url, self.csp = url, CspWatch(page)
        self.requests: list = []
        self.console: list = []
        self.exceptions: list[str] = []
        page.on("request", lambda r: self.requests.append(r))
        page.on("console", lambda m: self.console.append(m) if m.type in BAD else None)
        page.on("pageerror", lambda e: self.exceptions.append(str(e)))

    def sent(self, path: str) -> list:
        return [r for r in self.requests if r.url.startswith(self.url + path)]

    def assert_clean(self, refused: str | None = None) -> None:
        """Strict, with one allowance: Chromium logs every 4xx answer to a fetch as a console
        error («Failed to load resource: … 401»); a test that calls an operation before
        authorizing, on purpose, names that URL as ``refused`` and only its 401 is let pass."""
        foreign = [r.url for r in self.requests if not r.url.startswith(self.url + "/")]
        assert foreign == []  # no CDN, no telemetry, no other origin
        assert self.exceptions == []
        errors = [
            f"{m.type}: {m.text} ({m.location.get('url')})"
            for m in self.console
            if not (
                refused
                and m.location.get("url", "").startswith(self.url + refused)
                and "status of 401" in m.text
            )
        ]
        assert errors == []
        self.csp.assert_clean("/docs")


def _open_docs(browser, url: str):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    watch = Watch(page, url)
    page.goto(url + "/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    return context, page, watch


def _execute(page, operation: str, **params: str) -> tuple[str, str]:
    """Expand an operation, «Try it out», fill the parameters, «Execute»; the rendered answer
    (status code and body, as the page shows them)."""
    block = page.locator(operation)
    if block.locator("button.try-out__btn").count() == 0:
        block.locator(".opblock-summary").click()
        block.locator("button.try-out__btn").click()
    for name, value in params.items():
        block.locator(f'tr[data-param-name="{name}"] input').fill(value)
    live = block.locator(".live-responses-table")
    if live.count():  # an earlier answer: «Clear» it, so the one read below is this call's
        block.locator("button.btn-clear").click()
        live.wait_for(state="detached")
    block.locator("button.execute").click()
    answer = live.locator("tr.response")
    answer.wait_for(timeout=30_000)
    # the code, and under it «Undocumented» when the operation does not declare that answer
    status = answer.locator("td.response-col_status").inner_text().split()[0]
    return status, answer.locator("td.response-col_description").inner_text()


def test_authorize_with_client_credentials_then_try_it_out(site, browser, tmp_path: Path):
    url, rt = site
    operator = Operator(rt)
    context, page, watch = _open_docs(browser, url)
    try:
        # not authorized yet: the API refuses the call (so the 200 below is the token's doing)
        status, _ = _execute(page, FEED)
        assert status == "401"
        assert "authorization" not in watch.sent("/api/v1/consent/feed")[0].headers
        assert watch.sent("/oauth2/token") == []

        page.click(".auth-wrapper button.authorize")
        dialog = page.locator(".modal-ux")
        dialog.wait_for()
        dialog.locator("#client_id_clientCredentials").fill(operator.client_id)
        dialog.locator("#client_secret_clientCredentials").fill(operator.secret)
        dialog.locator("button[aria-label='Apply given OAuth2 credentials']").click()
        dialog.locator("button:has-text('Logout')").wait_for(timeout=30_000)
        assert "Authorized" in dialog.inner_text()
        assert dialog.locator(".errors").count() == 0
        (token_request,) = watch.sent("/oauth2/token")
        assert token_request.method == "POST"
        assert token_request.headers["authorization"].startswith("Basic ")
        assert "grant_type=client_credentials" in (token_request.post_data or "")
        token = token_request.response().json()["access_token"]
        page.screenshot(path=str(tmp_path / "docs-authorize-dialog.png"))
        dialog.locator("button.btn-done").first.click()
        assert page.locator(".auth-wrapper button.authorize.locked").count() == 1

        status, body = _execute(page, FEED)
        assert status == "200", body
        assert '"events"' in body and '"next"' in body
        (_, call) = watch.sent("/api/v1/consent/feed")
        assert call.headers["authorization"] == f"Bearer {token}"
        page.locator(FEED + " .live-responses-table").scroll_into_view_if_needed()
        page.screenshot(path=str(tmp_path / "docs-authorized.png"))
        watch.assert_clean(refused="/api/v1/consent/feed")
    finally:
        context.close()


def test_authorize_with_a_pasted_bearer_token(site, browser):
    url, rt = site
    operator = Operator(rt)
    token = operator.token(url)
    context, page, watch = _open_docs(browser, url)
    try:
        page.click(".auth-wrapper button.authorize")
        dialog = page.locator(".modal-ux")
        dialog.locator("#auth-bearer-value").fill(token)
        dialog.locator("button[aria-label='Apply credentials']").first.click()
        dialog.locator("button:has-text('Logout')").wait_for()
        dialog.locator("button.btn-done").first.click()

        status, body = _execute(page, TEMPLATE, template_id=operator.template_id)
        assert status == "200", body
        assert operator.template_key in body  # the operator's own template, read with its token
        (call,) = watch.sent("/api/v1/consent/templates/")
        assert call.headers["authorization"] == f"Bearer {token}"
        assert watch.sent("/oauth2/token") == []  # the pasted token, not a new one
        watch.assert_clean()
    finally:
        context.close()
