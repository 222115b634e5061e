"""Request body limits, enforced before anything reads a body (413).

``BodyLimit`` is the app's outermost layer (``create_app`` adds it as the last outer lane):
it sees a request before the token and gated-pull lanes, before FastAPI's middlewares, before
authentication and before any parser, so an oversized body costs the server no parsing, no
database round trip and no more memory than the limit. Without it a chunked body (no
``Content-Length``) reached the JSON, form and multipart parsers whole, unauthenticated callers
included.

* A ``Content-Length`` above the limit is refused from the header; the body is never read.
  A declared length within the limit is passed on untouched (the HTTP server delivers no more
  than it declares), which keeps the hot lanes free of any per-chunk work.
* A body without a trusted length (``Transfer-Encoding`` present, a malformed or repeated
  ``Content-Length``, none over HTTP/2) is read here as it streams, up to the limit, and refused
  as soon as it passes it; within the limit it is replayed to the app as it came. Buffering
  rather than counting on the way through is what makes the refusal certain: once the app has
  read part of a body it may have started to act on it or to answer, and an exception raised
  into it would come back as a 500 from FastAPI's error middleware.

The limit is ``Settings.max_body_bytes`` for every request, and larger *allowances* for the few
upload routes that need them, registered by their packages at install time with
``allow_larger_body`` (the roster import, biometric photos and frames). A chunked upload to such
a route is held in memory up to its allowance before the route sees it.

The refusal is problem+json (``body-too-large``), or an OAuth error body on ``/oauth2/``
(those endpoints answer in their protocol's shape).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from propusk.errors import PROBLEM_JSON, TYPE_BASE
from propusk.observability import with_request_id

OAUTH_PREFIX = "/oauth2/"


@dataclass(frozen=True)
class BodyAllowance:
    """A larger limit for the requests of one route: ``method`` and a full-match path pattern."""

    name: str
    path: re.Pattern[str]
    limit: int
    methods: frozenset[str] = field(default_factory=lambda: frozenset({"POST"}))

    def covers(self, method: str, path: str) -> bool:
        return method in self.methods and self.path.fullmatch(path) is not None


def allow_larger_body(app, name: str, path: str, limit: int, methods=("POST",)) -> None:
    """Let ``methods`` on paths fully matching the regex ``path`` carry up to ``limit`` bytes.

    Called from a package's ``install(app)``; ``create_app`` hands the list to ``BodyLimit``.
    """
    allowance = BodyAllowance(name, re.compile(path), limit, frozenset(methods))
    app.state.body_allowances.append(allowance)


class BodyLimit:
    """Pure ASGI layer refusing request bodies above their limit (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, default: int, allowances: list[BodyAllowance]) -> None:
        self.app = app
        self.default = default
        self.allowances = allowances  # the app's list: allowances added later are seen too

    def limit_for(self, method: str, path: str) -> int:
        for allowance in self.allowances:
            if allowance.covers(method, path):
                return allowance.limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = declared_length(scope)
        if declared is not None and declared <= self.default:  # the common case: no lookup
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        limit = self.limit_for(scope["method"], path)
        if declared is not None:
            if declared > limit:
                await _too_large(path, limit, send)
                return
            await self.app(scope, receive, send)
            return
        messages = await _read_within(receive, limit)
        if messages is None:
            await _too_large(path, limit, send)
            return
        await self.app(scope, replay(messages, receive), send)


def route_path(scope: Scope) -> str:
    """The path the app routes on (behind a path-prefix proxy ``path`` may carry the prefix)."""
    path, root = scope["path"], scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path


def declared_length(scope: Scope) -> int | None:
    """The ``Content-Length`` when it alone frames the body, else None (count the body)."""
    length = None
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding":
            return None  # chunked: a Content-Length next to it means nothing
        if name == b"content-length":
            if length is not None or not value.strip().isdigit():
                return None  # repeated or malformed: do not trust it
            length = int(value)
    if length is None and scope.get("http_version", "1.1").startswith("1"):
        return 0  # HTTP/1.x: neither header means no body (RFC 9112 §6.3)
    return length  # HTTP/2 and 3 may stream a body without a length: count it


async def _read_within(receive: Receive, limit: int) -> list[Message] | None:
    """The body's messages while they total at most ``limit`` bytes; None once they pass it."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages  # the client went away: the app hears it as usual
        size += len(message.get("body", b""))
        if size > limit:
            return None
        if not message.get("more_body", False):
            return messages


def replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that hands out the messages already read first, then the rest."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def _too_large(path: str, limit: int, send: Send) -> None:
    detail = f"the request body is larger than {limit} bytes"
    if path.startswith(OAUTH_PREFIX):
        media = "application/json"
        body = {"error": "invalid_request", "error_description": detail}
    else:
        media = PROBLEM_JSON
        body = {
            "type": TYPE_BASE + "body-too-large",
            "title": "Content too large",
            "status": 413,
            "detail": detail,
            "instance": path,
        }
        with_request_id(body)
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", media.encode()),
        (b"content-length", str(len(payload)).encode()),
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
        (b"connection", b"close"),  # the unread rest of the body must not be taken for a request
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
