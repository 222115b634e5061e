"""RFC 9457 problem details for the JSON API.

Raise ``Problem`` (or a subclass) anywhere below a route; the handlers installed by the app
factory turn it, request validation errors and unexpected errors into problem+json bodies with a
stable ``type``. OAuth endpoints do not use these: they answer with OAuth error bodies.
"""

from __future__ import annotations

import logging
import math
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from propusk.observability import request_id

log = logging.getLogger("propusk")

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://propusk.dev/problems/"


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
        rid = request_id()
        if rid:  # the id the caller quotes to support (the same in the response header)
            data["request_id"] = rid
        return data


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

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        problem = Problem(status=500, type="internal-error", title="Internal server error")
        return problem_response(problem, request)


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
