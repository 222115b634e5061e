"""One registry of the process's caches: what each holds, for how long, and who empties it.

Every in-memory cache of data that lives in the database declares itself here (name, key, TTL,
what it holds, what empties it) and lets the registry reach its instances. A change made in a
transaction empties the caches only *after* that transaction commits (``after_commit``): emptied
inside the transaction, a concurrent request could refill the cache from the old, still
committed rows and keep them for a whole TTL; emptied and then rolled back, nothing is lost but
work. Other processes on PostgreSQL hear of it at the same moment: ``after_commit`` also queues
a ``NOTIFY`` in the changing transaction (PostgreSQL delivers it at commit, never after a
rollback), and each app's ``CacheListener`` empties the named cache of its process when one
arrives — whole, as a key does not survive the trip as the same Python value, and these caches
are small and their changes rare. A listener that (re)connects empties every cache, since it
cannot know what it missed; the TTLs remain the bound when it is away (and on SQLite, which has
no notifications). ``docs/operations.md`` lists the declared caches; a test keeps the two in
step.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import psycopg
from sqlalchemy import event, text
from sqlalchemy.orm import Session, SessionTransaction

from propusk.db import BackgroundThread, libpq_conninfo

Invalidator = Callable[[Hashable | None], None]  # key, or None for "everything"
_PENDING = "propusk.caches.pending"
_LISTENING = "propusk.caches.listening"
_NOTIFIED = "propusk.caches.notified"  # caches announced in the current transaction
CHANNEL = "propusk_caches"  # PostgreSQL notifications: {"cache": name, "from": process}
_NOTIFY = text("SELECT pg_notify(:channel, :payload)")
log = logging.getLogger("propusk.caches")


@dataclass(frozen=True)
class CacheSpec:
    """A declared cache, as the operations table shows it."""

    name: str  # dotted, owner package first: "oidc.clients"
    key: str  # what an entry is keyed by ("client_id", "-" for a single snapshot)
    ttl: str  # how long an entry may be served without a re-read ("10 s", "process lifetime")
    holds: str  # what it keeps, in words
    emptied_by: str  # the change that empties it (after commit), or "nothing: static"


class CacheRegistry:
    """The declared caches of this process and their live members (weakly held)."""

    def __init__(self) -> None:
        self.origin = f"{os.getpid()}:{uuid.uuid4().hex[:12]}"  # this process, in notifications
        self._lock = threading.Lock()
        self._specs: dict[str, CacheSpec] = {}
        self._members: dict[str, list[Callable[[], Invalidator | None]]] = {}

    def declare(self, spec: CacheSpec) -> CacheSpec:
        """Declare a cache (idempotent for the same spec; a different spec is a bug)."""
        with self._lock:
            known = self._specs.get(spec.name)
            if known is not None and known != spec:
                raise ValueError(f"cache {spec.name!r} declared twice differently")
            self._specs[spec.name] = spec
            self._members.setdefault(spec.name, [])
        return spec

    def join(self, name: str, invalidate: Invalidator) -> None:
        """Let ``invalidate(key | None)`` be called when ``name`` changes.

        A bound method is held weakly (a per-app cache goes away with its app); a plain
        function (a module's cache) strongly."""
        ref: Callable[[], Invalidator | None]
        if hasattr(invalidate, "__self__"):
            ref = weakref.WeakMethod(invalidate)  # type: ignore[arg-type]
        else:
            ref = lambda: invalidate  # noqa: E731 - a strong "reference" with the weakref shape
        with self._lock:
            if name not in self._specs:
                raise KeyError(f"cache {name!r} is not declared")
            self._members[name] = [r for r in self._members[name] if r() is not None] + [ref]

    def invalidate(self, name: str, key: Hashable | None = None) -> None:
        """Empty ``name`` now (``key`` only, or everything): for changes outside a transaction."""
        with self._lock:
            live = [r() for r in self._members.get(name, ())]
        for member in live:
            if member is not None:
                member(key)

    def after_commit(self, session: Session, name: str, key: Hashable | None = None) -> None:
        """Empty ``name`` once ``session``'s transaction commits (never if it rolls back), in
        this process and — on PostgreSQL — in every other process on the database."""
        if name not in self._specs:
            raise KeyError(f"cache {name!r} is not declared")
        if _LISTENING not in session.info:  # once per session, for all its transactions
            session.info[_LISTENING] = True
            event.listen(session, "after_commit", self._flush)
            event.listen(session, "after_soft_rollback", self._forget)
        session.info.setdefault(_PENDING, set()).add((name, key))
        notified = session.info.setdefault(_NOTIFIED, set())
        if name in notified:  # one notification per cache and transaction (a roster import
            return  # changes hundreds of role links)
        connection = session.connection()  # no autoflush: the caller's rows stay pending
        if connection.dialect.name == "postgresql":
            # transactional: delivered at commit, dropped with a rollback (a savepoint's too)
            payload = json.dumps({"cache": name, "from": self.origin})
            connection.execute(_NOTIFY, {"channel": CHANNEL, "payload": payload})
        notified.add(name)

    def _flush(self, session: Session) -> None:
        session.info.pop(_NOTIFIED, None)
        for name, key in sorted(session.info.pop(_PENDING, ()), key=repr):
            self.invalidate(name, key)

    def _forget(self, session: Session, previous_transaction: SessionTransaction) -> None:
        """A rolled-back transaction changed nothing: nothing to empty (a savepoint's rollback
        leaves the outer transaction's changes, and their invalidations, pending — but takes
        the notifications sent inside it: the next change sends again)."""
        session.info.pop(_NOTIFIED, None)
        if previous_transaction.parent is None:
            session.info.pop(_PENDING, None)

    def specs(self) -> list[CacheSpec]:
        with self._lock:
            return sorted(self._specs.values(), key=lambda s: s.name)


registry = CacheRegistry()  # the process's registry (``Runtime.caches``)
declare = registry.declare
join = registry.join
after_commit = registry.after_commit
invalidate = registry.invalidate


class CacheListener(BackgroundThread):
    """Empties this process's caches when another process announces a change (PostgreSQL
    ``LISTEN``): one thread and one connection per app, started and stopped with it.

    A notification names a cache; the whole cache is emptied (its next reads go to the
    database). Notifications from this process are skipped: its own changes were emptied after
    their commit. On every (re)connection all caches are emptied, as notifications sent while
    the connection was down are lost; until it is back, the caches' TTLs bound the staleness.
    """

    thread_name = "cache-listener"

    def __init__(self, caches: CacheRegistry, database_url: str, retry: float = 1.0) -> None:
        super().__init__()
        self.caches = caches
        self.database_url = database_url
        self.conninfo = libpq_conninfo(database_url)
        self.retry = retry

    def _run(self) -> None:
        told = False  # an outage is logged once, not at every retry
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception as exc:  # the database away: the TTLs bound staleness meanwhile
                if not told or self.listening.is_set():
                    log.warning("cache listener disconnected (%s); reconnecting", exc)
                told = True
            finally:
                self.listening.clear()
            self._stop.wait(self.retry)

    def _listen(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            for spec in self.caches.specs():  # whatever changed while nobody listened
                self.caches.invalidate(spec.name)
            self.listening.set()
            while not self._stop.is_set():
                for note in self.notifications(conn, 0.5):
                    self.heard(note.payload)

    def heard(self, payload: str) -> None:
        """Act on one notification's payload (anything malformed is ignored)."""
        try:  # RecursionError: a deeply nested payload (any role on the database may NOTIFY)
            data = json.loads(payload)
            name, origin = data["cache"], data.get("from")
        except (ValueError, TypeError, KeyError, RecursionError):
            return
        if not isinstance(name, str):  # an unhashable name would raise below
            return
        if origin == self.caches.origin or name not in {s.name for s in self.caches.specs()}:
            return
        self.caches.invalidate(name)


# One listener per registry and database in a process, shared by the apps on it: the registry
# is the process's, so one connection hears for all of them (tests build many apps).
_SHARED: dict[tuple[int, str], tuple[CacheListener, int]] = {}
_SHARED_LOCK = threading.Lock()


def subscribe(caches: CacheRegistry, database_url: str) -> CacheListener:
    """Start listening for ``caches`` on ``database_url``, or join the listener already doing
    it; each ``subscribe`` is paired with an ``unsubscribe`` (the last one stops it)."""
    key = (id(caches), database_url)
    with _SHARED_LOCK:
        listener, users = _SHARED.get(key, (None, 0))
        if listener is None:
            listener = CacheListener(caches, database_url)
            listener.start()
        _SHARED[key] = (listener, users + 1)
        return listener


def unsubscribe(listener: CacheListener) -> None:
    key = (id(listener.caches), listener.database_url)
    with _SHARED_LOCK:
        shared, users = _SHARED.get(key, (None, 0))
        if shared is not listener:
            return
        if users > 1:
            _SHARED[key] = (listener, users - 1)
            return
        del _SHARED[key]
    listener.stop()
