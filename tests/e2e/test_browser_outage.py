"""What a person sees in Chromium when a dependency is down (issue 16, Faults): the Russian page
«Пропуск временно недоступен» while PostgreSQL is stopped (a cluster of the test's own), and
«Госуслуги не отвечают» with a way to try again when ESIA is unreachable at the login's return.
Each page is judged by ``pagecheck`` (no console or CSP error, Russian only, no machine key, no
horizontal scroll at 390 px, axe) with screenshots in build/screenshots/test_browser_outage/.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from idp.oidc.principal import SESSION_COOKIE
from propusk.migrate import upgrade
from propusk.runtime import build_runtime
from tests.e2e.chromium import needs_chromium
from tests.e2e.pagecheck import check_page, watch
from tests.support.faults import (
    PgCluster,
    SilentPeer,
    pg_tools_available,
    seed_load_world,
    server_with_esia_at,
)
from tests.support.servers import start_live_server
from tests.support.settings import make_settings, needs_tool

pytestmark = [
    needs_chromium,
    needs_tool(pg_tools_available(), "PostgreSQL server binaries (initdb, pg_ctl)"),
    pytest.mark.xdist_group("outage"),
]


def _cookie(context, url: str, name: str, value: str) -> None:
    context.add_cookies([{"name": name, "value": value, "url": url}])


def _only_the_503(page) -> None:
    """The page's only console errors are Chromium's notes of the document's own 503 (the
    state this page shows), nothing else (no CSP violation, no script error)."""
    problems = watch(page).take()
    assert problems and all(
        p.startswith("console error: Failed to load resource") and "503" in p for p in problems
    ), problems


def test_a_stopped_database_shows_a_russian_page_then_the_cabinet_again(browser):
    pg = PgCluster().init()
    try:
        pg.start()
        upgrade(pg.url)
        rt = build_runtime(make_settings(pg.url))
        world = seed_load_world(rt, people=1)
        server, server_rt = start_live_server(pg.url)
        try:
            context = browser.new_context(locale="ru-RU")
            _cookie(context, server.url, SESSION_COOKIE, world.people[0][1])
            page = context.new_page()
            watch(page)
            pg.stop("fast")
            answer = page.goto(server.url + "/cabinet")
            assert answer is not None and answer.status == 503
            assert page.inner_text("h1") == "Пропуск временно недоступен"
            _only_the_503(page)
            check_page(page, "database-down")
            pg.start()
            page.goto(server.url + "/cabinet")
            page.wait_for_selector("h1")
            assert "недоступен" not in page.inner_text("h1")
        finally:
            server.stop()
            server_rt.dispose()
            rt.dispose()
    finally:
        pg.destroy()


def test_esia_down_at_the_return_shows_a_way_to_try_again(browser, fresh_pg):
    peer = SilentPeer()
    server, rt = server_with_esia_at(fresh_pg(), peer)
    try:
        http = httpx.Client(base_url=server.url, timeout=30)
        started = http.get("/login", params={"next": "/cabinet"})
        state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
        peer.close()  # ESIA goes away while the person is on its pages
        context = browser.new_context(locale="ru-RU")
        for name, value in http.cookies.items():
            _cookie(context, server.url, name, value)
        page = context.new_page()
        watch(page)
        answer = page.goto(f"{server.url}/login/esia/callback?state={state}&code=abc")
        assert answer is not None and answer.status == 503
        assert "Госуслуги не отвечают" in page.inner_text("main")
        again = page.get_by_role("link", name="Попробовать войти ещё раз")
        assert again.get_attribute("href").startswith("/login?next=")
        _only_the_503(page)
        check_page(page, "esia-down")
    finally:
        server.stop()
        rt.dispose()
