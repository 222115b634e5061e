"""The policy of one app instance: decisions with what they rest on, the decision cache, the
snapshot swapped whole on reload, and which engine serves a request or a database session.

Why not ``casbin.SyncedEnforcer`` as is: it takes a *shared* read lock around ``enforce``, which
is not enough for ``FastEnforcer`` (its (object, action) pre-filter mutates the policy while
enforcing). ``PolicyEngine`` is the equivalent: one lock serialises enforcement and incremental
role-link updates (enforcement is CPU-only and holds the GIL anyway), and a full reload builds a
complete new enforcer off to the side and swaps the reference, so there is never a window with
no roles or no rules. Other instances' changes reach it through ``policies.listener``.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from policies import repository
from policies.model import (
    Grants,
    PolicyEnforcer,
    RequestContext,
    Row,
    normalize_resource,
    read_file_policy,
)
from propusk import caches

log = logging.getLogger("propusk.policies")


# --- decisions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """One answer, with what it rests on (for 403 bodies and explanations)."""

    allowed: bool
    subject: str
    domain: str
    obj: str
    act: str
    version: int
    matched_domain: str | None = None
    rule: Row | None = None
    rule_source: str | None = None  # "file" or "db:<uuid>"
    via: str | None = None  # "link" (g table) or "grant" (carried by the principal)
    tried_domains: tuple[str, ...] = ()
    # set when a relying party's token may not do this (policies.delegation), whatever the rules
    delegation: Any = None

    @property
    def permission(self) -> str:
        return f"{self.obj}:{self.act}"

    def as_dict(self) -> dict[str, Any]:
        rule = None
        if self.rule is not None:
            role, dom, obj, act, cond = self.rule
            rule = {
                "role": role,
                "domain": dom,
                "object": obj,
                "action": act,
                "condition": cond,
                "source": self.rule_source,
            }
        return {
            "allowed": self.allowed,
            "subject": self.subject,
            "domain": self.domain,
            "object": self.obj,
            "action": self.act,
            "permission": self.permission,
            "matched_domain": self.matched_domain,
            "rule": rule,
            "via": self.via,
            "tried_domains": list(self.tried_domains),
            "policy_version": self.version,
        }


# --- snapshots ------------------------------------------------------------------------------


@dataclass
class Snapshot:
    """A complete, immutable-by-convention policy: swapped whole on reload."""

    enforcer: PolicyEnforcer
    sources: dict[Row, str]
    version: int
    fingerprint: tuple[int, int]
    rows: list[Row] = field(default_factory=list)


def build_snapshot(
    file_rows: list[Row],
    db_rows: Iterable[tuple[Row, str]],
    links: Iterable[tuple[str, str, str]],
    fingerprint: tuple[int, int],
) -> Snapshot:
    sources: dict[Row, str] = {row: "file" for row in file_rows}
    for row, source in db_rows:
        sources.setdefault(row, source)
    rows = list(sources)
    enforcer = PolicyEnforcer(rows)
    add = enforcer.links.add_link
    for subject, role, domain in links:
        add(subject, role, domain)
    return Snapshot(enforcer, sources, fingerprint[0], fingerprint, rows)


def load_snapshot(session: Session, file_rows: list[Row] | None = None) -> Snapshot:
    """Read the policy from the database. The fingerprint is read first, so a change that
    commits during the load is seen again (and applied) by the next poll."""
    fp = repository.fingerprint(session)
    db_rows = [
        ((r.role, r.domain, r.obj, r.act, r.cond), f"db:{r.id}")
        for r in repository.list_rules(session)
    ]
    links = repository.iter_links(session)
    return build_snapshot(file_rows or read_file_policy(), db_rows, links, fp)


def _changed_subjects(
    session: Session, known: tuple[int, int], now: tuple[int, int]
) -> set[str] | None:
    """Subjects whose links changed since ``known``; None if a full reload is needed."""
    changes = repository.changes_since(session, known[0], limit=1000)
    if now[1] - known[1] != len(changes):
        return None  # a change committed out of sequence order, or too many to replay
    if not all(c.kind.startswith("roles.") and c.subject for c in changes):
        return None
    return {c.subject for c in changes if c.subject}


# --- the engine -----------------------------------------------------------------------------


class PolicyEngine:
    """The policy of one app instance: decisions, cache, reloads (see module docstring)."""

    def __init__(
        self,
        factory: sessionmaker[Session] | None,
        *,
        snapshot: Snapshot | None = None,
        cache_size: int = 200_000,
    ) -> None:
        self._factory = factory
        self._snap: Snapshot | None = snapshot
        self._lock = threading.Lock()  # enforcement and in-place link updates
        self._poll_lock = threading.Lock()  # loads, reloads and polls, one at a time
        self._cache: dict[tuple, Decision] = {}
        self._cache_size = cache_size
        self._file_rows = read_file_policy()
        self.reloads = 0
        self.refresher: Any = None  # set by make_engine_for (the cache registry's member)

    # snapshot management

    def snapshot(self) -> Snapshot:
        snap = self._snap
        if snap is None:
            with self._poll_lock:
                if self._snap is None:
                    self._install(self._load())
                snap = self._snap
        assert snap is not None
        return snap

    def _load(self) -> Snapshot:
        if self._factory is None:
            raise RuntimeError("this engine was built from a snapshot and cannot reload")
        with self._factory() as session:
            return load_snapshot(session, self._file_rows)

    def _install(self, snap: Snapshot) -> None:
        with self._lock:
            self._snap = snap
            self._cache = {}
        self.reloads += 1

    def reload(self) -> None:
        """Build a complete new enforcer, then swap it in."""
        with self._poll_lock:
            self._install(self._load())

    def clear_cache(self) -> None:
        self._cache = {}

    @property
    def version(self) -> int:
        return self.snapshot().version

    def poll(self) -> bool:
        """Catch up with committed changes; True if anything was applied.

        Role-link changes are applied per subject in place; rule changes (rare), gaps and
        out-of-order commits rebuild the whole snapshot.
        """
        if self._snap is None or self._factory is None:
            return False
        with self._poll_lock:
            snap = self._snap
            with self._factory() as session:
                fp = repository.fingerprint(session)
                if fp == snap.fingerprint:
                    return False
                subjects = _changed_subjects(session, snap.fingerprint, fp)
                if subjects is None:
                    new = load_snapshot(session, self._file_rows)
                else:
                    updates = {s: repository.links_of(session, s) for s in subjects}
            if subjects is None:
                self._install(new)
                return True
            with self._lock:
                for subject, links in updates.items():
                    snap.enforcer.links.set_subject(subject, [(r, d) for r, d, _ in links])
                snap.fingerprint = fp
                snap.version = fp[0]
                self._cache = {}
            return True

    def poll_quietly(self) -> None:
        try:
            self.poll()
        except Exception:  # a failed poll is retried by the listener; never fail a request
            log.exception("policy poll failed")

    # decisions

    def decide(
        self,
        subject: str,
        grants: Grants,
        domain: str,
        obj: str,
        act: str,
        resource: Mapping[str, Any] | None = None,
    ) -> Decision:
        key = (subject, grants, domain, obj, act)
        if resource is None:
            hit = self._cache.get(key)
            if hit is not None:
                return hit
        snap = self.snapshot()
        ctx = RequestContext(grants, normalize_resource(resource))
        with self._lock:
            snap = self._snap or snap
            decision = self._decide_locked(snap, subject, ctx, domain, obj, act)
            if resource is None:
                if len(self._cache) >= self._cache_size:
                    self._cache = {}
                self._cache[key] = decision
        return decision

    def _candidate_domains(
        self, snap: Snapshot, subject: str, grants: Grants, domain: str
    ) -> list[str]:
        """A route with no domain (``*``) is allowed if any domain of the caller allows it."""
        if domain != "*":
            return [domain]
        doms = dict.fromkeys(["*"])
        doms.update(dict.fromkeys(sorted(d for _, d in grants)))
        doms.update(dict.fromkeys(sorted(snap.enforcer.links.domains_of(subject))))
        return list(doms)

    def _decide_locked(
        self, snap: Snapshot, subject: str, ctx: RequestContext, domain: str, obj: str, act: str
    ) -> Decision:
        tried = self._candidate_domains(snap, subject, ctx.grants, domain)
        for dom in tried:
            allowed, rule = snap.enforcer.enforce_ex(subject, dom, obj, act, ctx)
            if allowed:
                row: Row = tuple(rule)  # type: ignore[assignment]
                links = snap.enforcer.links
                via = (
                    "link"
                    if links.has_link(subject, row[0], dom) or links.has_link(subject, row[0], "*")
                    else "grant"
                )
                return Decision(
                    True,
                    subject,
                    domain,
                    obj,
                    act,
                    snap.version,
                    dom,
                    row,
                    snap.sources.get(row),
                    via,
                    tuple(tried),
                )
        return Decision(False, subject, domain, obj, act, snap.version, tried_domains=tuple(tried))


# --- instances: which engine serves a request / a session -----------------------------------

RULES = caches.declare(
    caches.CacheSpec(
        "policies.rules",
        "database",
        "until a change (NOTIFY, polled every 5 s)",
        "the policy snapshot (rules, role links) and the decisions made on it",
        "a rule, role link or status change (this instance after commit; others on NOTIFY)",
    )
)
_BY_DB_ENGINE: weakref.WeakKeyDictionary[Engine, PolicyEngine] = weakref.WeakKeyDictionary()
CURRENT: ContextVar[PolicyEngine | None] = ContextVar("propusk_policy_engine", default=None)
_last: list[PolicyEngine] = []


def register(db_engine: Engine, engine: PolicyEngine) -> None:
    _BY_DB_ENGINE[db_engine] = engine
    _last[:] = [engine]


def engine_for_session(session: Session) -> PolicyEngine | None:
    bind = session.get_bind()
    return _BY_DB_ENGINE.get(bind) if isinstance(bind, Engine) else None


def current_engine() -> PolicyEngine | None:
    """The engine of the request being served (set by ``require``), else the last installed."""
    return CURRENT.get() or (_last[0] if _last else None)


class _Refresher:
    """Polls one engine when its own database's rules changed (the registry's member).

    Not once its database engine is disposed: a disposed SQLAlchemy engine still opens a fresh
    pool on use, and a cache listener that empties every cache on (re)connect would otherwise
    leave a connection open for every app a process (a test run) has ever built."""

    def __init__(self, db_engine: Engine, engine: PolicyEngine) -> None:
        self.db_engine = weakref.ref(db_engine)
        self.engine = engine
        self.retired = False
        event.listen(db_engine, "engine_disposed", self._retire)

    def _retire(self, _db_engine: Engine) -> None:
        self.retired = True

    def changed(self, database: object) -> None:
        if self.retired:
            return
        if database is None or database is self.db_engine():
            self.engine.poll_quietly()


def make_engine_for(factory: sessionmaker[Session], db_engine: Engine) -> PolicyEngine:
    engine = PolicyEngine(factory)
    register(db_engine, engine)
    engine.refresher = _Refresher(db_engine, engine)  # lives as long as the engine
    caches.join(RULES.name, engine.refresher.changed)
    return engine
