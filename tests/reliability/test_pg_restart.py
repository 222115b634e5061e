"""PostgreSQL restarted under load (issue 16, Faults), on a cluster of the test's own
(``initdb`` + ``pg_ctl`` on a free port; never the shared server).

While the database is down every answer that needs it is a 503 with ``Retry-After`` — problem+json
``database-unavailable`` with the request id on the API, an OAuth ``temporarily_unavailable``
body on the token endpoint, a Russian page for a browser, 503 from ``/readyz`` — never a 500 or
a stack trace; the lanes that answer requests themselves (the gated pull lane, the token lane)
answer exactly as the routes do. When PostgreSQL is back the same process serves again without a
restart (its pool, its pull batcher's threads and its audit sequencer recover), and no
acknowledged write is lost."""

from __future__ import annotations

import time

import httpx
import pytest

from propusk.migrate import upgrade
from propusk.runtime import build_runtime
from tests.support.faults import (
    Load,
    PgCluster,
    half_written,
    logged_in,
    lost_writes,
    operator_token,
    pg_tools_available,
    seed_load_world,
    wait_outbox_drained,
)
from tests.support.processes import ServerProcess
from tests.support.settings import make_settings, needs_tool

pytestmark = needs_tool(pg_tools_available(), "PostgreSQL server binaries (initdb, pg_ctl)")
LOAD_SETTINGS = {"rate_consent_decisions": "100000/60"}
PROBLEM = "https://propusk.dev/problems/database-unavailable"


@pytest.fixture(scope="module")
def cluster():
    """A migrated PostgreSQL of this module's own, which its tests stop and start."""
    pg = PgCluster().init()
    try:
        pg.start()
        upgrade(pg.url)
        yield pg
    finally:
        pg.destroy()


def _without_request_id(r: httpx.Response) -> dict:
    body = r.json()
    assert body.pop("request_id") == r.headers["x-request-id"]
    return body


def _outage_answers(url: str, token: str, world) -> None:
    """Ask everything while the database is down and judge each answer; the lanes and the
    routes must answer alike."""
    subject, cookie = world.people[0]
    op = {"Authorization": f"Bearer {token}"}
    query = {"purpose": "attestation.online", "categories": "person.fullname"}
    pull = f"{url}/api/v1/subjects/{subject}/data"
    by_lane = httpx.get(pull, params=query, headers=op)
    # an extra parameter: the lane hands the request to the route (which ignores it)
    by_route = httpx.get(pull, params={**query, "via": "route"}, headers=op)
    for r in (by_lane, by_route):
        assert r.status_code == 503, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["retry-after"].isdigit()
        assert r.json()["type"] == PROBLEM and "Traceback" not in r.text
    assert _without_request_id(by_lane) == _without_request_id(by_route)

    browser = logged_in(url, cookie)
    api = browser.get(f"{url}/api/v1/me/consents", headers={"X-Request-ID": "outage-probe-1"})
    assert api.status_code == 503 and api.json()["type"] == PROBLEM, api.text
    assert api.json()["request_id"] == "outage-probe-1" == api.headers["x-request-id"]
    assert api.headers["retry-after"].isdigit()
    page = browser.get(f"{url}/cabinet", headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
    assert "Пропуск временно недоступен" in page.text and "Traceback" not in page.text
    assert page.headers["retry-after"].isdigit()
    browser.close()

    # the token lane (client_credentials of a client it has not cached) and the token route
    # (a refresh token) answer the same OAuth error
    lane = httpx.post(
        f"{url}/oauth2/token",
        auth=("unknown-client", "secret"),
        data={"grant_type": "client_credentials"},
    )
    route = httpx.post(
        f"{url}/oauth2/token",
        auth=world.operator_client,
        data={"grant_type": "refresh_token", "refresh_token": "x" * 43},
    )
    for r in (lane, route):
        assert r.status_code == 503 and r.headers["retry-after"].isdigit(), r.text
        assert r.headers["cache-control"] == "no-store"
    assert lane.json() == route.json()
    assert lane.json()["error"] == "temporarily_unavailable"

    assert httpx.get(f"{url}/readyz").status_code == 503
    assert httpx.get(f"{url}/healthz").status_code == 200  # alive, not ready


def _recovery_seconds(url: str, token: str, subject: str, timeout: float = 60) -> float:
    """Seconds from now (PostgreSQL accepting connections) to the first write answered (a gated
    pull: a transfer record and its audit event; given data, or refused if the subject's
    consent was not signed before the outage)."""
    op = {"Authorization": f"Bearer {token}"}
    query = {"purpose": "attestation.online", "categories": "person.fullname"}
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        r = httpx.get(f"{url}/api/v1/subjects/{subject}/data", params=query, headers=op)
        assert r.status_code < 500 or r.json()["type"] == PROBLEM, r.text
        if r.status_code in (200, 403) and "transfer_id" in r.json():  # recorded, either way
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"the service did not recover: {r.status_code} {r.text}")


def test_postgres_restart_under_load(cluster, tmp_path, capsys):
    rt = build_runtime(make_settings(cluster.url))
    server = ServerProcess(cluster.url, tmp_path, **LOAD_SETTINGS)
    try:
        world = seed_load_world(rt, people=3)
        server.start()
        token = operator_token(server.url, world)
        ledgers, figures = [], []
        for mode in ("fast", "immediate"):
            load = Load(server.url, world).start()
            load.wait_rounds(2)
            cluster.stop(mode)
            time.sleep(0.3)  # the writers meet the outage
            ledgers.append(load.join())
            _outage_answers(server.url, token, world)
            cluster.start()  # returns once PostgreSQL accepts connections
            figures.append((mode, _recovery_seconds(server.url, token, world.people[0][0])))
        after = Load(server.url, world).start()
        after.wait_rounds(2)
        ledgers.append(after.join())
        assert after.rounds >= 2

        for ledger in ledgers:  # nothing but the outage's own 503s
            assert all(s == 503 and PROBLEM in b for s, _, b in ledger.bodies), ledger.bodies
        assert wait_outbox_drained(rt) == 0, server.logs()[-3000:]  # the sequencer resumed
        lost = [w for ledger in ledgers for w in lost_writes(rt, ledger)]
        assert lost == []
        assert half_written(rt) == []
        logs = server.logs()
        assert "Traceback" not in logs  # an outage is a known cause: one line, no stack
        assert "gated pull lane: database unavailable" in logs  # the lane answered itself
        # the background threads lived through both outages and resumed
        assert logs.count("audit sequencer: resumed") >= 2
        assert logs.count("policy listener: database available again") >= 2
        with capsys.disabled():
            acked = sum(len(ledger.acked) for ledger in ledgers)
            print(
                f"\nPostgreSQL restarts under load: {acked} writes acknowledged, "
                f"{sum(ledger.in_flight for ledger in ledgers)} in flight, "
                f"{sum(ledger.refused for ledger in ledgers)} refused with 503, {len(lost)} lost; "
                + ", ".join(f"recovery after stop -m {m}: {s:.2f} s" for m, s in figures)
            )
    finally:
        server.stop()
        rt.dispose()
