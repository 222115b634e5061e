"""Fixtures of the browser tests: Debian Chromium, and a live server with the demo data.

Both are per test module (a module's pages share one browser and one server, as a person's
visits share one site); the constants live in ``tests/e2e/chromium.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from propusk.demo import seed as seed_demo
from propusk.demo_states import seed_states
from propusk.migrate import upgrade
from tests.e2e.chromium import CHROMIUM, FLAGS
from tests.support.servers import start_live_server


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@contextmanager
def _demo_site(tmp_path_factory, *, states: bool) -> Iterator[tuple]:
    database = f"sqlite:///{tmp_path_factory.mktemp('demo_site') / 'propusk.db'}"
    upgrade(database)
    server, rt = start_live_server(database, upstream="simulator", demo=True)
    try:
        seed_demo(rt.settings)
        yield server.url, rt, (seed_states(rt.settings) if states else None)
    finally:
        server.stop()
        rt.dispose()


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory) -> Iterator[tuple]:
    """A live server with the ESIA simulator and what `make run` seeds (idp and consent demo
    data): (url, runtime). Its own database per module: the demo people are fixed accounts that
    other tests (tests/security) also log in and give consents to, and a page is judged by what
    the module itself made of them."""
    with _demo_site(tmp_path_factory, states=False) as (url, rt, _):
        yield url, rt


@pytest.fixture(scope="module")
def demo_states_site(tmp_path_factory) -> Iterator[tuple]:
    """``demo_site`` with the lived-in states of ``make run DEMO_FLAGS=--states``
    (``propusk.demo_states``): (url, runtime, the ``StatesReport``). Its own database."""
    with _demo_site(tmp_path_factory, states=True) as site:
        yield site
