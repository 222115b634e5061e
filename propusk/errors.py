"""RFC 9457 problem details for the JSON API.

Raise ``Problem`` (or a subclass) anywhere below a route; the handlers installed by the app
factory turn it, request validation errors and unexpected errors into problem+json bodies with a
stable ``type``. OAuth endpoints do not use these: they answer with OAuth error bodies.

A database outage (the server down, restarting, refusing connections, or a connection cut under
a request) is recognised in one place, ``is_database_outage``, and answered in one way by the
routes (the handlers below) and by the lanes that answer requests themselves: 503 with
``Retry-After`` — problem+json ``database-unavailable`` on the API, an OAuth
``temporarily_unavailable`` body on the OAuth endpoints, a Russian page for a browser — never a
500 with a stack trace. Nothing needs restarting when the database returns: the engine pings a
pooled connection before use (``propusk.db``), so the first request after it answers again.
"""

from __future__ import annotations

import logging
import math
from functools import cache
from http import HTTPStatus
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from propusk.observability import with_request_id

log = logging.getLogger("propusk")

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://propusk.dev/problems/"
# The OpenAPI component every problem answer refers to (``propusk.apidocs`` defines it).
PROBLEM_SCHEMA_REF = "#/components/schemas/Problem"
ANSWERS = {
    400: "The request contradicts a rule or the object's state (problem+json)",
    404: "No such object, or not visible to this caller (problem+json)",
    409: "Conflicts with the object's current state (problem+json)",
    413: "The body is larger than this route accepts (problem+json)",
    415: "The body's media type is not one this route reads (problem+json)",
    429: "Over a rate limit: retry after ``Retry-After`` seconds (problem+json)",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The refusals a route answers besides the guard's 401/403 and the 422 of its parameters
    (those ``propusk.apidocs`` adds to every guarded operation, with 404 where the path names
    an object), as the route's OpenAPI ``responses``: ``responses=problems(400, 409)``. The
    API fuzzer (``tests/security/test_fuzz_api.py``) fails on an answer a route does not
    declare."""
    content = {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}}
    return {status: {"description": ANSWERS[status], "content": content} for status in statuses}


class Problem(Exception):
    """An API error that maps to one problem+json response."""

    status: int = 400
    type: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        status: int | None = None,
        type: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title or self.title)
        if status is not None:
            self.status = status
        if type is not None:
            self.type = type
        if title is not None:
            self.title = title
        self.detail = detail
        self.headers = headers
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": TYPE_BASE + self.type,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            data["detail"] = self.detail
        if instance:
            data["instance"] = instance
        data.update(self.extra)
        return with_request_id(data)


class NotFound(Problem):
    status, type, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, type, title = 409, "conflict", "Conflict"


class Unauthorized(Problem):
    status, type, title = 401, "unauthorized", "Authentication required"


class Forbidden(Problem):
    status, type, title = 403, "forbidden", "Forbidden"


class ValidationProblem(Problem):
    status, type, title = 422, "validation-error", "Invalid request"


class TooManyRequests(Problem):
    """Over a rate limit (``propusk.ratelimit``): 429 with ``Retry-After`` (and the seconds in
    the body, for pages that say when to try again)."""

    status, type, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(
            detail or "Too many requests; retry later",
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )


class DatabaseUnavailable(Problem):
    """The database does not answer (``is_database_outage``): 503 with ``Retry-After``."""

    status, type, title = 503, "database-unavailable", "Database unavailable"

    def __init__(self) -> None:
        super().__init__(
            "the database is unavailable; retry later (a change sent as it failed may have "
            "been saved: check before repeating it)",
            headers={"Retry-After": str(OUTAGE_RETRY_AFTER)},
        )


# Seconds a client is told to wait during a database outage (a restart takes a few seconds).
OUTAGE_RETRY_AFTER = 5
# SQLSTATEs of a server that is gone, going, not there yet or full: class 08 (connection
# exception), 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now (starting
# up), 53300 too many connections.
_OUTAGE_STATES = ("08", "57P01", "57P02", "57P03", "53300")


def is_database_outage(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) means the database cannot be reached — the one test
    every route handler and lane asks, so that they answer an outage alike.

    True for a connection the driver found dead (``connection_invalidated``), a connection that
    could not be made (a PostgreSQL driver error without a SQLSTATE: refused, reset, timed
    out), the server's shutdown and start-up states, and a pool that found no connection in
    time. Not for errors a query itself causes (constraint violations, deadlocks, serialization
    failures: they have a SQLSTATE of their own) nor for SQLite's own errors (a locked file is
    not an outage)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, sa_exc.TimeoutError):  # QueuePool: no connection within its timeout
            return True
        if isinstance(exc, sa_exc.DBAPIError):
            return exc.connection_invalidated or _driver_outage(exc.orig)
        if _driver_outage(exc):  # the driver's own error (a thread on a raw connection)
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _driver_outage(err: BaseException | None) -> bool:
    """A PostgreSQL driver's (psycopg's) operational or interface error that is about the
    connection: no SQLSTATE (it never reached a server) or a connection/shutdown state."""
    if not hasattr(err, "sqlstate"):
        return False
    kinds = {cls.__name__ for cls in type(err).__mro__}
    if not kinds & {"OperationalError", "InterfaceError"}:
        return False
    state = err.sqlstate
    return state is None or state.startswith(_OUTAGE_STATES)


def outage_problem() -> DatabaseUnavailable:
    """The API's answer to a database outage (routes and lanes alike)."""
    return DatabaseUnavailable()


def outage_oauth() -> tuple[int, bytes, dict[str, str]]:
    """The OAuth endpoints' answer to a database outage: (status, JSON body, headers)."""
    body = orjson.dumps(
        {
            "error": "temporarily_unavailable",
            "error_description": "The database is unavailable; retry later",
        }
    )
    headers = {"Retry-After": str(OUTAGE_RETRY_AFTER), "Cache-Control": "no-store"}
    return 503, body, headers


# Propusk's page layout lives with the web UI; read as files (the kernel imports no page code).
_PAGES = Path(__file__).parent / "web" / "templates"


@cache
def _page_templates() -> Environment:
    return Environment(loader=FileSystemLoader(str(_PAGES)), autoescape=select_autoescape())


def outage_page() -> bytes:
    """The Russian page a browser gets during a database outage (needs no database)."""
    return _page_templates().get_template("unavailable.html").render().encode()


def declare_oauth_endpoints(app: FastAPI, *paths: str) -> None:
    """Paths whose failures are OAuth error bodies (``idp.oidc.wiring`` declares them)."""
    app.state.oauth_endpoints = frozenset(getattr(app.state, "oauth_endpoints", ())) | set(paths)


def outage_response(request: Request) -> Response:
    """The route's answer to a database outage, by who asks: an OAuth endpoint's client, the
    API's caller, or a browser on a page."""
    path = request.url.path
    if path in getattr(request.app.state, "oauth_endpoints", ()):
        status, body, headers = outage_oauth()
        return Response(body, status_code=status, media_type="application/json", headers=headers)
    if not path.startswith("/api/") and "text/html" in request.headers.get("accept", ""):
        headers = {"Retry-After": str(OUTAGE_RETRY_AFTER)}
        return HTMLResponse(outage_page(), status_code=503, headers=headers)
    return problem_response(outage_problem(), request)


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    return JSONResponse(
        problem.body(str(request.url.path) if request else None),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """``loc``, ``msg``, ``type`` and the numeric limits of ``ctx`` (``min_length`` …): the
    pages fill Russian sentences with them (``propusk.messages.validation``); the rest of
    ``ctx`` may hold exceptions or echo input, so it stays out."""
    out = []
    for err in exc.errors():
        item = {
            "loc": list(err.get("loc", ())),
            "msg": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        ctx = {
            k: v
            for k, v in (err.get("ctx") or {}).items()
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        }
        if ctx:
            item["ctx"] = ctx
        out.append(item)
    return out


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problem = ValidationProblem("request body or parameters are invalid")
        problem.extra["errors"] = _validation_errors(exc)
        return problem_response(problem, request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405 and (allowed := _allowed_methods(request)):
            headers = {**(headers or {}), "Allow": allowed}
        problem = Problem(
            str(exc.detail) if exc.detail else None,
            status=exc.status_code,
            type="http-" + str(exc.status_code),
            title=_reason(exc.status_code),
            headers=headers,
        )
        return problem_response(problem, request)

    @app.exception_handler(sa_exc.SQLAlchemyError)
    async def _database(request: Request, exc: sa_exc.SQLAlchemyError) -> Response:
        if is_database_outage(exc):
            log.warning(
                "database unavailable on %s %s: %s", request.method, request.url.path, _brief(exc)
            )
            return outage_response(request)
        raise exc  # any other database error is unexpected: the handler below answers it

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        problem = Problem(status=500, type="internal-error", title="Internal server error")
        return problem_response(problem, request)


def _brief(exc: BaseException) -> str:
    """The exception's class and first line (driver messages carry no row values: the engines
    hide parameters), for a one-line log entry instead of a traceback per request."""
    orig = getattr(exc, "orig", None) or exc
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
    return f"{type(orig).__name__}: {first[:200]}"


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (RFC 9110 §15.5.6), asked of the router's
    own matching (included routers nest). Starlette's own ``Allow`` names only the first route
    that matches the path, and a path here often has one route per method."""
    # a mounted app (static files) judges its own methods
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    allowed = [
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] == Match.FULL for r in routes)
    ]
    return ", ".join(allowed)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
