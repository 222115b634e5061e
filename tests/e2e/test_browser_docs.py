"""The API reference renders in a real browser with no network but this server (Debian Chromium
via Playwright): Swagger UI 5 from the bundled wheel reads our OpenAPI 3.1 schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import start_live_server
from tests.e2e.chromium import CHROMIUM, FLAGS, needs_chromium

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server_url(sqlite_database) -> Iterator[str]:
    server, rt = start_live_server(sqlite_database)
    try:
        yield server.url
    finally:
        server.stop()
        rt.dispose()


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
