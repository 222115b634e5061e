"""The Casbin enforcer of one app instance, its decision cache and its reload machinery.

Why not ``casbin.SyncedEnforcer`` as is: it takes a *shared* read lock around ``enforce``, which
is not enough for ``FastEnforcer`` (its (object, action) pre-filter mutates the policy while
enforcing). ``PolicyEngine`` is the equivalent: one lock serialises enforcement and incremental
role-link updates (enforcement is CPU-only and holds the GIL anyway), and a full reload builds a
complete new enforcer off to the side and swaps the reference, so there is never a window with
no roles or no rules.

Role links (``g``) live in ``FlatRoleManager``, a dict index (subject -> domain -> roles): the
default pycasbin domain manager rebuilds a role manager per domain lazily and scans lists, which
costs seconds to load and milliseconds per cold lookup at 100,000 links.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import weakref
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import casbin
from casbin.model.policy_fast import fast_policy_filter
from casbin.rbac import RoleManager
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from policies import repository

log = logging.getLogger("propusk.policies")

PACKAGE_DIR = Path(__file__).resolve().parent
MODEL_PATH = PACKAGE_DIR / "model.conf"
POLICY_PATH = PACKAGE_DIR / "policy.csv"

CONDITIONS = frozenset({"any", "owner", "guardian", "same_school", "same_org", "proctor", "taker"})
Row = tuple[str, str, str, str, str]  # role, domain pattern, object, action, condition
Grants = frozenset[tuple[str, str]]


# --- model functions ------------------------------------------------------------------------


class RequestContext:
    """``r.ctx``: what the matcher needs beyond strings (grants, the loaded resource)."""

    __slots__ = ("grants", "resource")

    def __init__(self, grants: Grants, resource: Mapping[str, Any] | None) -> None:
        self.grants = grants
        self.resource = resource


def grant_function(ctx: RequestContext, role: str, domain: str) -> bool:
    """The principal's own grants (implicit links): in the request domain or everywhere."""
    grants = ctx.grants
    return (role, domain) in grants or (role, "*") in grants


def _contains(values: Any, item: str) -> bool:
    return bool(values) and item in values


def condition_function(cond: str, sub: str, dom: str, ctx: RequestContext) -> bool:
    """Attribute condition of a ``p`` row.

    Without a resource (the route-level check) a known condition holds provisionally: the
    handler loads the resource and calls ``authorize(..., resource=...)``, where it is decided.
    """
    if cond == "any":
        return True
    res = ctx.resource
    if res is None:
        return cond in CONDITIONS
    if cond == "owner":
        return res.get("subject") == sub
    if cond == "guardian":
        return _contains(res.get("guardians"), sub)
    if cond == "same_school":
        return _contains(res.get("schools"), dom)
    if cond == "same_org":
        return res.get("organization") == dom
    if cond == "proctor":
        return _contains(res.get("proctors"), sub)
    if cond == "taker":
        return _contains(res.get("takers"), sub)
    return False


def normalize_resource(resource: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Strings for scalars, frozensets for lists, so handlers may pass UUIDs and lists."""
    if resource is None:
        return None
    out: dict[str, Any] = {}
    for key, value in resource.items():
        if isinstance(value, (list, tuple, set, frozenset)):
            out[key] = frozenset(str(v) for v in value)
        elif value is None:
            out[key] = None
        else:
            out[key] = str(value)
    return out


# --- role links -----------------------------------------------------------------------------


class FlatRoleManager(RoleManager):
    """Role links indexed subject -> domain -> roles; O(1) ``has_link``, no hierarchy.

    Roles in Propusk are flat (a teacher is not a student); ``has_link(x, x)`` is true as in
    pycasbin's default manager.
    """

    def __init__(self) -> None:
        self._by_subject: dict[str, dict[str, tuple[str, ...]]] = {}
        self.size = 0

    def clear(self) -> None:
        self._by_subject = {}
        self.size = 0

    def add_link(self, name1: str, name2: str, *domain: str) -> None:
        dom = sys.intern(domain[0] if domain else "")
        doms = self._by_subject.setdefault(name1, {})
        roles = doms.get(dom, ())
        if name2 not in roles:
            doms[dom] = (*roles, sys.intern(name2))
            self.size += 1

    def delete_link(self, name1: str, name2: str, *domain: str) -> None:
        dom = domain[0] if domain else ""
        doms = self._by_subject.get(name1)
        if not doms or name2 not in doms.get(dom, ()):
            return
        remaining = tuple(r for r in doms[dom] if r != name2)
        self.size -= 1
        if remaining:
            doms[dom] = remaining
        else:
            del doms[dom]
            if not doms:
                del self._by_subject[name1]

    def has_link(self, name1: str, name2: str, *domain: str) -> bool:
        if name1 == name2:
            return True
        doms = self._by_subject.get(name1)
        if doms is None:
            return False
        return name2 in doms.get(domain[0] if domain else "", ())

    def get_roles(self, name: str, *domain: str) -> list[str]:
        return list(self._by_subject.get(name, {}).get(domain[0] if domain else "", ()))

    def get_users(self, name: str, *domain: str) -> list[str]:
        dom = domain[0] if domain else ""
        return [s for s, doms in self._by_subject.items() if name in doms.get(dom, ())]

    def print_roles(self) -> None:  # pycasbin calls this after building links
        return None

    def domains_of(self, subject: str) -> list[str]:
        return list(self._by_subject.get(subject, {}))

    def set_subject(self, subject: str, links: Iterable[tuple[str, str]]) -> None:
        """Replace every link of one subject (role, domain)."""
        for dom, roles in list(self._by_subject.get(subject, {}).items()):
            for role in roles:
                self.delete_link(subject, role, dom)
        for role, dom in links:
            self.add_link(subject, role, dom)


# --- the enforcer ---------------------------------------------------------------------------


class CompiledMatcher:
    """The matcher compiled to Python bytecode once, evaluated per ``p`` row.

    pycasbin interprets the matcher with simpleeval and re-parses it on every call (about
    20 µs per row plus 100 µs per call here). The matcher text comes from ``model.conf``, which
    is reviewed code; policy rows and requests only ever arrive as values of its names, so
    compiling it is as safe as importing a module.
    """

    __slots__ = ("code", "scope")

    def __init__(self, expr: str, functions: Mapping[str, Any] | None) -> None:
        expr = expr.replace("&&", " and ").replace("||", " or ")
        expr = re.sub(r"!(?!=)", " not ", expr)
        self.code = compile(expr.strip(), "<casbin matcher>", "eval")
        self.scope: dict[str, Any] = {"__builtins__": {}, **(functions or {})}

    def eval(self, names: dict[str, Any]) -> Any:
        return bool(eval(self.code, self.scope, names))


class PolicyEnforcer(casbin.FastEnforcer):
    """FastEnforcer (p rows pre-filtered by object and action) with a compiled matcher.

    Not thread-safe by itself (the pre-filter mutates the policy): ``PolicyEngine`` serialises
    calls.
    """

    def __init__(self, rows: Iterable[Row], model_text: str | None = None) -> None:
        if model_text is None:
            super().__init__(str(MODEL_PATH), cache_key_order=[2, 3])
        else:  # another formulation of the model (the bench compares them)
            self._cache_key_order = [2, 3]
            super().__init__(self.new_model(text=model_text), cache_key_order=[2, 3])
        self._expressions: dict[str, CompiledMatcher] = {}
        self.links = FlatRoleManager()
        self.set_role_manager(self.links)
        self.build_role_links()
        self.add_function("grant", grant_function)
        self.add_function("cond", condition_function)
        rows = [list(r) for r in dict.fromkeys(tuple(r) for r in rows)]
        if rows:
            self.get_model().add_policies("p", "p", rows)

    def _get_expression(self, expr: str, functions: dict | None = None) -> CompiledMatcher:
        cached = self._expressions.get(expr)
        if cached is None:
            cached = self._expressions[expr] = CompiledMatcher(expr, functions)
        return cached

    def enforce_ex(self, *rvals: Any) -> tuple[bool, list[str]]:
        keys = [rvals[i] for i in self._cache_key_order]
        with fast_policy_filter(self.model.model["p"]["p"].policy, *keys):
            return casbin.Enforcer.enforce_ex(self, *rvals)


def read_file_policy(path: Path = POLICY_PATH) -> list[Row]:
    """The reviewed default policy: ``p, role, domain, object, action, condition`` lines."""
    rows: list[Row] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split(",")]
        if parts[0] != "p" or len(parts) != 6:
            raise ValueError(f"{path.name}:{number}: expected 'p, role, domain, obj, act, cond'")
        if parts[5] not in CONDITIONS:
            raise ValueError(f"{path.name}:{number}: unknown condition {parts[5]!r}")
        rows.append((parts[1], parts[2], parts[3], parts[4], parts[5]))
    return rows


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

    def roles_of(self, subject: str) -> list[tuple[str, str]]:
        links = self.snapshot().enforcer.links
        return [(r, d) for d in links.domains_of(subject) for r in links.get_roles(subject, d)]


# --- instances: which engine serves a request / a session -----------------------------------

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


# --- multi-instance reload ------------------------------------------------------------------


class PolicyListener:
    """Keeps one engine current: PostgreSQL LISTEN/NOTIFY wakes it at once after a change on
    any instance; a periodic fingerprint poll covers SQLite and missed notifications."""

    def __init__(self, engine: PolicyEngine, database_url: str, interval: float = 5.0) -> None:
        self.engine = engine
        self.url = database_url
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self.listening.clear()
        self._thread = threading.Thread(target=self._run, name="policy-listener", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        postgres = self.url.startswith("postgresql")
        while not self._stop.is_set():
            try:
                if postgres:
                    self._listen()
                else:
                    self.listening.set()
                    self._stop.wait(self.interval)
                    self.engine.poll()
            except Exception:
                log.exception("policy listener error; retrying")
                self._stop.wait(1.0)

    def _listen(self) -> None:
        import psycopg
        from sqlalchemy.engine import make_url

        conninfo = (
            make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f"LISTEN {repository.NOTIFY_CHANNEL}")
            self.listening.set()
            self.engine.poll()  # anything committed before LISTEN took effect
            waited = 0.0
            while not self._stop.is_set():
                woke = False
                for note in conn.notifies(timeout=0.5, stop_after=1):
                    woke = True
                    log.debug("policy change notified: %s", _safe_payload(note.payload))
                waited = 0.0 if woke else waited + 0.5
                if woke or waited >= self.interval:
                    waited = 0.0
                    self.engine.poll()


def _safe_payload(payload: str) -> dict[str, Any]:
    try:
        data = json.loads(payload)
    except ValueError:
        return {}
    return {"version": data.get("version")} if isinstance(data, dict) else {}


def make_engine_for(factory: sessionmaker[Session], db_engine: Engine) -> PolicyEngine:
    engine = PolicyEngine(factory)
    register(db_engine, engine)
    return engine
