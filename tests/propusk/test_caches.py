"""The cache registry empties a cache after the transaction that changed its rows commits.

Emptied inside the transaction, a concurrent reader would refill the cache from the rows still
committed (the old ones) and serve them for a whole TTL; a rolled-back change empties nothing.
"""

from __future__ import annotations

import gc
import json
import threading
import uuid

import psycopg
import pytest
from sqlalchemy import event, text

from policies.engine import make_engine_for
from propusk import caches
from propusk.caches import CacheRegistry, CacheSpec
from propusk.db import BackgroundThread, libpq_conninfo, session_scope
from propusk.runtime import build_runtime
from tests.support.settings import make_settings


def spec(name: str) -> CacheSpec:
    return CacheSpec(name, "id", "10 s", "test rows", "a test change")


class RowCache:
    """A cache that refills from the database on a miss, like the real ones."""

    def __init__(self, sessionmaker, table: str) -> None:
        self.sessionmaker, self.table = sessionmaker, table
        self.value: str | None = None
        self.emptied: list[object] = []

    def read(self) -> str:
        if self.value is None:
            with session_scope(self.sessionmaker) as s:
                self.value = s.execute(text(f"SELECT v FROM {self.table}")).scalar_one()
        return self.value

    def invalidate(self, key) -> None:
        self.emptied.append(key)
        self.value = None


@pytest.fixture
def table(runtime):
    name = f"cache_t_{uuid.uuid4().hex[:8]}"
    with session_scope(runtime.sessionmaker) as s:
        s.execute(text(f"CREATE TABLE {name} (v VARCHAR(20))"))
        s.execute(text(f"INSERT INTO {name} VALUES ('old')"))
    yield name
    with session_scope(runtime.sessionmaker) as s:
        s.execute(text(f"DROP TABLE {name}"))


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_refill_during_the_transaction_does_not_keep_the_old_rows(runtime, table):
    registry = CacheRegistry()
    registry.declare(spec("t.rows"))
    cache = RowCache(runtime.sessionmaker, table)
    registry.join("t.rows", cache.invalidate)
    assert cache.read() == "old"

    with session_scope(runtime.sessionmaker) as s:
        s.execute(text(f"UPDATE {table} SET v = 'new'"))
        registry.after_commit(s, "t.rows", "k")
        # a concurrent request misses and refills while the change is not yet committed
        cache.value = None
        refill = threading.Thread(target=cache.read)
        refill.start()
        refill.join()
        assert cache.value == "old" and cache.emptied == []
    assert cache.emptied == ["k"]
    assert cache.read() == "new"


def test_a_rolled_back_change_empties_nothing(runtime, table):
    registry = CacheRegistry()
    registry.declare(spec("t.rows"))
    cache = RowCache(runtime.sessionmaker, table)
    registry.join("t.rows", cache.invalidate)
    cache.read()
    with pytest.raises(RuntimeError), session_scope(runtime.sessionmaker) as s:
        registry.after_commit(s, "t.rows")
        raise RuntimeError("the change fails")
    assert cache.emptied == [] and cache.value == "old"


def test_one_session_empties_once_per_committed_transaction(runtime, table):
    registry = CacheRegistry()
    registry.declare(spec("t.rows"))
    cache = RowCache(runtime.sessionmaker, table)
    registry.join("t.rows", cache.invalidate)
    with runtime.sessionmaker() as s:
        registry.after_commit(s, "t.rows", 1)
        registry.after_commit(s, "t.rows", 1)  # the same change twice: emptied once
        s.commit()
        assert cache.emptied == [1]
        s.commit()  # nothing pending
        s.execute(text(f"UPDATE {table} SET v = 'rolled back'"))
        registry.after_commit(s, "t.rows", 2)
        s.rollback()
        s.commit()
        assert cache.emptied == [1]


def test_members_of_a_closed_app_are_let_go_and_module_functions_kept():
    registry = CacheRegistry()
    registry.declare(spec("t.rows"))
    calls: list[object] = []

    class PerApp:
        def invalidate(self, key) -> None:
            calls.append(("app", key))

    member = PerApp()
    registry.join("t.rows", member.invalidate)
    registry.join("t.rows", lambda key: calls.append(("module", key)))
    del member
    gc.collect()
    registry.invalidate("t.rows", None)
    assert calls == [("module", None)]


def test_declarations_are_checked():
    registry = CacheRegistry()
    registry.declare(spec("t.rows"))
    registry.declare(spec("t.rows"))  # idempotent
    with pytest.raises(ValueError):
        registry.declare(CacheSpec("t.rows", "other", "1 s", "x", "y"))
    with pytest.raises(KeyError):
        registry.join("t.unknown", lambda key: None)


def test_a_savepoint_rolled_back_keeps_the_outer_change_pending(runtime, table):
    registry = CacheRegistry()
    registry.declare(spec("t.rows"))
    cache = RowCache(runtime.sessionmaker, table)
    registry.join("t.rows", cache.invalidate)
    with session_scope(runtime.sessionmaker) as s:
        s.execute(text(f"UPDATE {table} SET v = 'new'"))
        registry.after_commit(s, "t.rows", "outer")
        savepoint = s.begin_nested()
        s.execute(text(f"UPDATE {table} SET v = 'inner'"))
        savepoint.rollback()
    assert cache.emptied == ["outer"]


def test_the_operations_table_lists_every_declared_cache(app):
    """docs/operations.md describes the caches the running code declares, no more, no less."""
    from pathlib import Path

    from propusk.caches import registry

    doc = (Path(__file__).parents[2] / "docs" / "operations.md").read_text(encoding="utf-8")
    section = doc.split("## In-memory caches", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    documented = {line.split("`")[1]: line for line in rows}
    declared = {spec.name: spec for spec in registry.specs() if not spec.name.startswith("t.")}
    assert set(documented) == set(declared)
    for name, spec in declared.items():
        assert f"| {spec.key} | {spec.ttl} |" in documented[name], name


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_committed_change_empties_the_caches_of_other_processes(runtime):
    """Two registries stand for two processes on one database: the writer's change reaches the
    other's listener at commit (a ``NOTIFY`` in the transaction), a rolled-back one never; the
    listener empties everything when it connects (it cannot know what it missed)."""
    from propusk.caches import CacheListener

    writer, reader = CacheRegistry(), CacheRegistry()
    emptied: dict[str, list] = {"t.one": [], "t.two": []}
    for name in emptied:
        writer.declare(spec(name))
        reader.declare(spec(name))
        reader.join(name, lambda key, seen=emptied[name]: seen.append(key))
    listener = CacheListener(reader, runtime.settings.database_url)
    listener.start()
    try:
        assert listener.listening.wait(10)
        assert emptied == {"t.one": [None], "t.two": [None]}  # on connecting
        with runtime.sessionmaker() as s:  # rolled back: nobody hears of it
            writer.after_commit(s, "t.one", "k")
            s.rollback()
        with session_scope(runtime.sessionmaker) as s:
            writer.after_commit(s, "t.two", "k")
            writer.after_commit(s, "t.two", "other key")  # one notification per cache
        deadline = threading.Event()
        for _ in range(200):  # notifications arrive in commit order: t.one's would be first
            if len(emptied["t.two"]) > 1:
                break
            deadline.wait(0.05)
        assert emptied == {"t.one": [None], "t.two": [None, None]}
        own = json.dumps({"cache": "t.one", "from": reader.origin})
        listener.heard(own)  # its own change: emptied after its commit already
        listener.heard("not json")
        listener.heard('{"cache": "no.such.cache"}')
        assert emptied["t.one"] == [None]
    finally:
        listener.stop()


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_the_apps_of_a_process_share_one_listener_per_database(runtime):
    """Tests build many apps in one process: one listening connection serves them all (the
    registry is the process's), stopped when the last app stops."""
    from propusk.caches import subscribe, unsubscribe

    registry = CacheRegistry()
    first = subscribe(registry, runtime.settings.database_url)
    second = subscribe(registry, runtime.settings.database_url)
    assert first is second and first.listening.wait(10)
    unsubscribe(first)
    assert first.listening.is_set()  # the other app still hears
    unsubscribe(second)
    assert not first.listening.is_set() and first._thread is None


def test_a_disposed_app_is_not_polled_when_every_cache_is_emptied(pg_url):
    """A cache listener empties every cache when it (re)connects; a disposed app's policy engine
    must not answer that with a query: a disposed SQLAlchemy engine opens a fresh pool on use,
    and the test suite leaked a PostgreSQL connection per app it had ever built until
    max_connections refused everyone."""
    rt = build_runtime(make_settings(pg_url))
    policy = make_engine_for(rt.sessionmaker, rt.engine)  # what the app's wiring makes
    policy.reload()  # the rules in memory, as after the app's first decision
    opened: list[object] = []
    event.listen(rt.engine, "checkout", lambda *_: opened.append(1))
    caches.invalidate("policies.rules")  # a live app re-reads its rules
    assert opened
    rt.dispose()
    opened.clear()
    caches.invalidate("policies.rules")
    assert opened == [], "a disposed app's engine was used"
    del policy


@pytest.mark.parametrize(
    "payload",
    ['{"cache": []}', '{"cache": {"a": 1}}', "[" * 3000, '{"cache": "t.one", "from": []}'],
    ids=["list-name", "object-name", "deep-nesting", "list-origin"],
)
def test_a_malformed_notification_is_ignored_not_raised(payload):
    """Anyone who may connect to the database may ``NOTIFY propusk_caches``; ``heard`` promises
    to ignore anything malformed. A payload that raises instead ends the listening connection
    (every cache emptied, a reconnect and a warning per notification: a flood of them keeps the
    caches empty)."""
    from propusk.caches import CacheListener

    registry = CacheRegistry()
    registry.declare(spec("t.one"))
    emptied: list = []
    registry.join("t.one", lambda key: emptied.append(key))
    listener = CacheListener(registry, "postgresql+psycopg://nobody@127.0.0.1:1/none")
    listener.heard(payload)
    assert emptied == ([None] if "from" in payload else [])


class _OneLongWait(BackgroundThread):
    """A listener whose single wait is a minute long; ``heard`` what it returned."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.heard: list[str] | None = None

    def _run(self) -> None:
        with psycopg.connect(libpq_conninfo(self.url), autocommit=True) as conn:
            conn.execute("LISTEN propusk_test_wake")
            self.listening.set()
            self.heard = [n.payload for n in self.notifications(conn, 60)]


def test_stopping_a_listener_ends_its_wait_at_once(pg_url):
    """``stop()`` wakes a listener in the middle of its wait (apps stop in milliseconds, not
    after their poll): with a minute's wait and ``stop``'s 5 s join, the thread is over."""
    listener = _OneLongWait(pg_url)
    listener.start()
    assert listener.listening.wait(10)
    thread = listener._thread
    listener.stop()
    assert not thread.is_alive() and listener.heard == []


def test_a_listener_hears_a_notification_sent_while_it_waits(pg_url):
    listener = _OneLongWait(pg_url)
    listener.start()
    assert listener.listening.wait(10)
    with psycopg.connect(libpq_conninfo(pg_url), autocommit=True) as conn:
        conn.execute("NOTIFY propusk_test_wake, 'hello'")
    listener._thread.join(10)
    assert listener.heard == ["hello"]
    listener.stop()
