"""What an operator of the service watches: request ids, structured logs, Prometheus metrics.

* **Request id** — taken from ``X-Request-ID`` when a well-formed one comes in (a load balancer
  or the caller's own trace), else made; kept in a context variable for the request's logs and
  problem bodies (``propusk.errors``) and echoed in the response. Malformed ids are replaced,
  never echoed: a header is not a place for an attacker's text.
* **Logs** — one JSON object per line (``JsonFormatter``: time, level, logger, message,
  request id), so a log pipeline reads fields instead of parsing prose. What a log line may
  carry is the callers' business (``propusk.logs`` redacts query strings; audit bodies never
  hold secrets); a test scans a whole test run's logs for SNILS, names and tokens.
* **Metrics** — counters and histograms in this process's registry, exposed at ``/metrics``
  (``propusk.routes``: loopback without proxy headers, or a platform administrator). The
  ``Observe`` lane wraps everything, the edge lanes too, and labels a request with its route
  *template* (bounded cardinality: ids never become labels). Domain counters (tokens, gate
  decisions, consent events, biometric checks, rate-limit refusals) are incremented by the
  packages through the names below; figures that live in the database (audit backlog, overdue
  obligations) are read at scrape time by collectors the composition root registers.
* **Several workers** — ``propusk serve --workers N`` runs N processes, each with its own
  counters; a scrape reaches one of them. The command then points ``PROMETHEUS_MULTIPROC_DIR``
  at a fresh private directory before the workers start: prometheus-client keeps every
  process's values in memory-mapped files there, and ``exposition`` sums them at scrape
  (``MultiProcessCollector``), so whichever worker answers, the counts are the service's. The
  database gauges are read once, by the worker answering (they are the database's, not a
  process's). A worker that exits marks itself dead (its live gauges go; its counts stay).
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{8,128}")
ROUTE_KEY = "propusk.route"  # a lane that answers a request itself names its route here
# The methods a label names; any other (PROPFIND, MKCOL … — the HTTP parser takes dozens, and
# a route answers 405 to each under its own template) counts as OTHER, so that a visitor cannot
# multiply the series (each histogram one per bucket) by walking methods over the routes.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REGISTRY = CollectorRegistry(auto_describe=True)
HTTP_REQUESTS = Counter(
    "propusk_http_requests",
    "HTTP requests answered, by route template, method and status",
    ["route", "method", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "propusk_http_request_duration_seconds",
    "Time to the last byte of the answer, by route template and method",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
TOKENS_ISSUED = Counter(
    "propusk_tokens_issued", "Access tokens issued, by grant type", ["grant"], registry=REGISTRY
)
GATE_DECISIONS = Counter(
    "propusk_gate_decisions",
    "Transfer gate decisions per category, by outcome and refusal reason",
    ["outcome", "reason"],
    registry=REGISTRY,
)
CONSENT_EVENTS = Counter(
    "propusk_consent_events",
    "Consent ledger events committed, by kind (audit event type)",
    ["kind"],
    registry=REGISTRY,
)
BIOMETRIC_CHECKS = Counter(
    "propusk_biometric_checks",
    "Biometric checks (enrolment, liveness, exam frames), by kind and result",
    ["kind", "result"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "propusk_rate_limit_refusals",
    "Requests refused by a rate limit, by limit name",
    ["limit"],
    registry=REGISTRY,
)
RATE_DEGRADED = Counter(
    "propusk_rate_limit_degraded",
    "Times the rate limiter fell back to in-process counting (Redis unavailable)",
    registry=REGISTRY,
)


_COUNTED = "propusk.observability.counted"
_LISTENING = "propusk.observability.listening"


def count_after_commit(session, events: list[tuple[str, dict | None]]) -> None:
    """Count audit events ``(type, body)`` in the domain metrics once ``session`` commits
    (never if it rolls back): the audit log is where every package already says what
    happened, so the figures and the log cannot disagree. Called by ``audit.service``."""
    if _LISTENING not in session.info:
        session.info[_LISTENING] = True
        event.listen(session, "after_commit", _flush_counts)
        event.listen(session, "after_soft_rollback", _drop_counts)
    session.info.setdefault(_COUNTED, []).extend(events)


def _flush_counts(session) -> None:
    for event_type, body in session.info.pop(_COUNTED, ()):
        observe_event(event_type, body or {})


def _drop_counts(session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_COUNTED, None)


def observe_event(event_type: str, body: dict) -> None:
    """One committed audit event in the domain counters (by its type; labels from its body
    are bounded vocabularies: grant types, outcomes, reasons, results — never ids)."""
    if event_type == "token.issued":
        TOKENS_ISSUED.labels(str(body.get("grant_type", "unknown"))[:40]).inc()
    elif event_type == "gate.decision":
        refused = body.get("refused") or {}
        for _ in body.get("allowed") or ():
            GATE_DECISIONS.labels("allowed", "").inc()
        for reason in refused.values() if isinstance(refused, dict) else ():
            GATE_DECISIONS.labels("refused", str(reason)[:60]).inc()
    elif event_type.startswith("consent."):
        CONSENT_EVENTS.labels(event_type[:60]).inc()
    elif event_type.startswith(("biometric.", "exam.")):
        result = body.get("result") or body.get("outcome") or body.get("decision") or ""
        BIOMETRIC_CHECKS.labels(event_type[:60], str(result)[:40]).inc()


def request_id() -> str | None:
    """The id of the request being served (None outside one)."""
    return REQUEST_ID.get()


def with_request_id(problem: dict) -> dict:
    """A problem body with the id the caller quotes to support (the same as the response's
    ``X-Request-ID``), for every writer of problem bodies: the errors, the edge guards."""
    rid = request_id()
    if rid:
        problem["request_id"] = rid
    return problem


def accepted_request_id(header: bytes | str | None) -> str:
    """The caller's ``X-Request-ID`` if well formed (8–128 of ``A-Za-z0-9._:-``), else a new
    one: a malformed id is never echoed or logged."""
    if isinstance(header, bytes):
        header = header.decode("latin-1")
    if header and _WELL_FORMED.fullmatch(header):
        return header
    return uuid.uuid4().hex


class Observe:
    """Outermost ASGI layer: the request id (context, response header) and the HTTP metrics.

    Costs one context-variable set, a header append and a counter + histogram update per
    request (a few microseconds; ``bench_oidc_token`` quotes it)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        rid = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                rid = value
                break
        rid = accepted_request_id(rid)
        token = REQUEST_ID.set(rid)
        echoed = rid.encode()
        status = 500
        started = time.perf_counter()

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", echoed)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = _route_of(scope)
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            HTTP_REQUESTS.labels(route, method, str(status)).inc()
            HTTP_LATENCY.labels(route, method).observe(time.perf_counter() - started)
            REQUEST_ID.reset(token)


def _route_of(scope) -> str:
    named = scope.get(ROUTE_KEY)
    if named:
        return named
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path:
        return scope.get("root_path", "") + path if scope.get("root_path") else path
    if scope["path"].startswith("/static/"):
        return "/static/{file}"
    return "<unmatched>"


class DatabaseGauges(Collector):
    """Gauges read from the database when Prometheus scrapes (``register_gauge``): the audit
    outbox, the last signed checkpoint's age, overdue 152-FZ obligations. A failing read is
    reported as the gauge ``propusk_scrape_errors`` instead of failing the scrape."""

    def __init__(self) -> None:
        self._gauges: list[tuple[str, str, Callable[[], float | None]]] = []
        self._sessionmaker = None

    def add(self, name: str, documentation: str, read: Callable[[], float | None]) -> None:
        self._gauges.append((name, documentation, read))

    def collect(self):
        errors = 0
        for name, documentation, read in self._gauges:
            try:
                value = read()
            except Exception:  # a database away must not turn /metrics into a 500
                logging.getLogger("propusk.metrics").warning("gauge %s unreadable", name)
                errors += 1
                continue
            if value is not None:
                yield GaugeMetricFamily(name, documentation, value=value)
        yield GaugeMetricFamily(
            "propusk_scrape_errors", "Gauges that could not be read at this scrape", value=errors
        )

    def describe(self):
        return []


DATABASE_GAUGES = DatabaseGauges()
REGISTRY.register(DATABASE_GAUGES)

# prometheus-client reads this variable when it is imported: set, every counter and histogram
# of this process writes to a memory-mapped file in that directory (one per process and type)
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    """The directory the workers of ``propusk serve --workers N`` share their values in, or
    None in a single process (the registry's own values are then the whole truth)."""
    return os.environ.get(MULTIPROCESS_ENV) or None


def exposition() -> bytes:
    """The Prometheus text of this service: with several workers, every worker's counters and
    histograms summed from the shared directory (a live process's and an exited one's alike:
    counts only grow), plus the database gauges read now; else this process's registry."""
    path = multiprocess_dir()
    if path is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    prometheus_multiprocess.MultiProcessCollector(registry, path=path)
    registry.register(DATABASE_GAUGES)
    return generate_latest(registry)


def worker_exited() -> None:
    """At a worker's shutdown: its live gauges leave the sums (``mark_process_dead``); its
    counters stay, as the counts it served happened. No-op in a single process."""
    path = multiprocess_dir()
    if path is not None:
        prometheus_multiprocess.mark_process_dead(os.getpid(), path)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
    ``request_id`` (when inside a request) and ``exception`` (the traceback text)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = REQUEST_ID.get()
        if rid:
            entry["request_id"] = rid
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def install_json_logs(level: str = "INFO") -> None:
    """Send the root logger's records (the service's and uvicorn's) as JSON lines to stderr."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
