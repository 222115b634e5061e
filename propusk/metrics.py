"""The metrics the composition root wires: database gauges read at scrape time and the
``/metrics`` endpoint (Prometheus text format).

Who may read them: a scraper on the same host (loopback, with no proxy header: behind a
reverse proxy on the same host every visitor comes from loopback, so a request that carries
any header a proxy adds — ``Forwarded``, ``Via``, ``X-Forwarded-*`` (a proxy set up to pass
only ``X-Forwarded-Proto`` and ``Host`` is common), ``X-Real-IP`` and the CDN client-address
headers — is not trusted as local) or a platform
administrator (policy object ``metrics``, action ``read``). The figures name no person: route
templates, grant types, reasons, counts.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from audit import checkpoint as audit_checkpoint
from audit import service as audit_service
from consent.obligations import reports
from propusk.db import session_scope, utcnow
from propusk.observability import DATABASE_GAUGES, exposition
from propusk.security import resolve_principal

router = APIRouter(include_in_schema=False)
LOOPBACK = {"127.0.0.1", "::1"}
PROXY_HEADERS = frozenset(
    {"forwarded", "via", "x-real-ip", "x-client-ip", "true-client-ip", "cf-connecting-ip"}
)
PROXY_PREFIX = "x-forwarded-"
_SOURCE: dict[str, object] = {}  # the sessionmaker of the process's (latest) app


def register_database_gauges(app) -> None:
    """Gauges over the app's database. The registry is the process's (one app in production);
    the gauges are declared once and read the latest app's database."""
    first = not _SOURCE
    _SOURCE["sessionmaker"] = app.state.sessionmaker
    if first:
        _declare_gauges()


def _read(fn):
    def value():
        with session_scope(_SOURCE["sessionmaker"]) as session:
            return fn(session)

    return value


def _declare_gauges() -> None:
    read = _read

    DATABASE_GAUGES.add(
        "propusk_audit_outbox_events",
        "Audit events written but not yet in the Merkle tree (the outbox)",
        read(audit_service.pending_count),
    )
    DATABASE_GAUGES.add(
        "propusk_audit_tree_size", "Events in the audit Merkle tree", read(audit_service.tree_size)
    )
    DATABASE_GAUGES.add(
        "propusk_audit_checkpoint_age_seconds",
        "Age of the latest signed audit checkpoint (absent before the first)",
        read(_checkpoint_age),
    )
    DATABASE_GAUGES.add(
        "propusk_obligations_overdue",
        "152-FZ obligations and destruction tasks past their deadline, all operators",
        read(lambda session: len(reports.overdue(session, utcnow()))),
    )


def _checkpoint_age(session) -> float | None:
    latest = audit_checkpoint.latest_signed(session)
    return None if latest is None else (utcnow() - latest.created_at).total_seconds()


def _local(request: Request) -> bool:
    host = request.client.host if request.client else None
    proxied = any(
        name in PROXY_HEADERS or name.startswith(PROXY_PREFIX) for name in request.headers
    )
    return host in LOOPBACK and not proxied


@router.get("/metrics", openapi_extra={"x-public": True})
def metrics(request: Request) -> Response:
    """Prometheus metrics: for a scraper on loopback or a platform administrator (the policy
    decides; a person or client without ``metrics read`` gets its 401/403 problem)."""
    if not _local(request):
        with session_scope(request.app.state.sessionmaker) as session:
            principal = resolve_principal(request, session)
        request.app.state.policy_guard(principal, "metrics", "read", "*")
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)
