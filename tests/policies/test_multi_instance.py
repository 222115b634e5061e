"""Two app instances on one database converge after a policy change made through either, or
by a third party (the CLI): PostgreSQL LISTEN/NOTIFY, and the version poll on SQLite."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from policies import service
from propusk.app import create_app
from propusk.db import session_scope
from propusk.runtime import build_runtime
from propusk.security import Principal
from tests.policies.world import CALLER_HEADER, install_test_resolver, make_world
from tests.support.settings import make_settings


def _instances(url: str, poll_interval: float) -> Iterator[tuple[list, list]]:
    world = make_world()
    runtimes = [build_runtime(make_settings(url)) for _ in range(2)]
    apps = [create_app(runtime=rt) for rt in runtimes]
    clients = []
    for app in apps:
        install_test_resolver(app, world)
        app.state.policy_listener.interval = poll_interval
        clients.append(TestClient(app).__enter__())
    for app in apps:  # listeners are up before the change is made
        assert app.state.policy_listener.listening.wait(10)
    try:
        yield apps, clients
    finally:
        for client in clients:
            client.__exit__(None, None, None)
        for rt in runtimes:
            rt.dispose()


def _converges(check, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def _allowed(app, subject: str, domain: str, obj: str, act: str) -> bool:
    principal = Principal(kind="person", subject=subject, channel="session")
    return service.decide(
        principal, obj, act, domain=domain, engine=app.state.policy_engine
    ).allowed


@pytest.fixture
def pg_pair(pg_url):
    # a long poll interval: convergence within the wait below can only come from NOTIFY
    yield from _instances(pg_url, poll_interval=600.0)


@pytest.fixture
def sqlite_pair(sqlite_database):
    yield from _instances(sqlite_database, poll_interval=0.1)


def _rule_added_on_one_is_enforced_on_the_other(apps, clients) -> None:
    obj = f"test.mi{uuid.uuid4().hex[:8]}"
    subject = f"person:{uuid.uuid4()}"
    school = f"school:{uuid.uuid4()}"
    with session_scope(apps[0].state.sessionmaker) as session:
        service.set_subject_roles(session, subject, [("teacher", school)])
    assert _converges(lambda: all(_allowed(a, subject, school, "status", "read") for a in apps))
    # both have cached "denied" for the new object
    assert not any(_allowed(a, subject, school, obj, "read") for a in apps)
    rule = {"role": "teacher", "domain": "school:*", "object": obj, "action": "read"}
    response = clients[0].post("/api/v1/policy/rules", json=rule, headers={CALLER_HEADER: "padm"})
    assert response.status_code == 201
    rule_id = uuid.UUID(response.json()["id"])
    assert _allowed(apps[0], subject, school, obj, "read")  # the writer sees it at commit
    assert _converges(lambda: _allowed(apps[1], subject, school, obj, "read"))
    # roles removed by a third party (not through either app)
    other = build_runtime(make_settings(str(apps[0].state.settings.database_url)))
    try:
        with session_scope(other.sessionmaker) as session:
            service.set_subject_roles(session, subject, [])
    finally:
        other.dispose()
    assert _converges(lambda: not any(_allowed(a, subject, school, obj, "read") for a in apps))
    assert apps[1].state.policy_engine.version == apps[0].state.policy_engine.version
    with session_scope(apps[0].state.sessionmaker) as session:  # no rule outlives the test
        service.remove_rule(session, "system:test", rule_id)


def test_two_instances_converge_over_listen_notify(pg_pair) -> None:
    _rule_added_on_one_is_enforced_on_the_other(*pg_pair)


def test_two_instances_converge_by_polling_on_sqlite(sqlite_pair) -> None:
    _rule_added_on_one_is_enforced_on_the_other(*sqlite_pair)
