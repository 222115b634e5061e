"""Edge guard of the JSON API: text never contains NUL, and nesting stays shallow.

PostgreSQL refuses U+0000 in text, so a NUL that reached a query would surface as a database
error (a 500) instead of a 4xx. No field of the JSON API can legitimately hold one, so requests
to ``/api/`` carrying NUL in the query string or in a JSON body are refused here, once, as
problem+json. The protocol endpoints (``/oauth2/``, ``/login``, the ESIA simulator) answer in
their own protocol's error shapes (OAuth errors, HTML pages, ESIA codes) and check input
themselves, so the guard leaves them alone.

A JSON body nested deeper than ``MAX_JSON_DEPTH`` is refused here too (400 ``json-too-deep``).
Every recursive walk of a decoded body (this guard's NUL search, validators, encoders, the
audit canonicaliser) would otherwise meet Python's recursion limit somewhere in the stack: a
100,000-level ``[[[…"\\u0000"…]]]`` made the NUL search itself raise RecursionError (a 500), and
a few hundred levels could still pass FastAPI's parser and break a later walk. No body of this
API is more than a handful of levels deep.

The body limit (``propusk.limits``) bounds what is read here.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from propusk.limits import replay
from propusk.observability import with_request_id

MAX_JSON_DEPTH = 64


def _query_has_nul(raw: bytes) -> bool:
    lowered = raw.lower()
    return b"%00" in lowered or b"\x00" in raw


def _walk(value: Any) -> tuple[int, bool]:
    """(nesting depth, whether any key or string holds NUL), without recursion."""
    deepest, nul = 0, False
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            nul = nul or "\x00" in item
        elif isinstance(item, dict):
            deepest = max(deepest, depth + 1)
            for key, inner in item.items():
                nul = nul or "\x00" in key
                stack.append((inner, depth + 1))
        elif isinstance(item, list):
            deepest = max(deepest, depth + 1)
            stack.extend((inner, depth + 1) for inner in item)
    return deepest, nul


def _json_problem(body: bytes) -> str | None:
    """The problem type a JSON body is refused with here, or None (the route judges it)."""
    may_hold_nul = b"\\u0000" in body or b"\x00" in body
    # fewer brackets in all than the cap: cannot be too deep (the common case: no parse here)
    may_be_deep = body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH
    if not may_hold_nul and not may_be_deep:
        return None
    try:
        value = json.loads(body)
    except RecursionError:
        return "json-too-deep"  # deeper than the interpreter's limit, far past the cap
    except (ValueError, UnicodeDecodeError):
        # malformed JSON: the route answers 422, unless a raw NUL
        return "nul-character" if b"\x00" in body else None
    depth, nul = _walk(value)
    if depth > MAX_JSON_DEPTH:
        return "json-too-deep"
    return "nul-character" if nul else None


DETAILS = {
    "nul-character": "text must not contain the NUL character (U+0000)",
    "json-too-deep": f"JSON must not be nested more than {MAX_JSON_DEPTH} levels deep",
}


async def _refuse(scope: Scope, send: Send, problem: str) -> None:
    body = {
        "type": "https://propusk.dev/problems/" + problem,
        "title": "Invalid request",
        "status": 400,
        "detail": DETAILS[problem],
        "instance": scope["path"],
    }
    with_request_id(body)
    media = "application/problem+json"
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", media.encode()),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class JsonGuard:
    """ASGI middleware refusing NUL in query strings and JSON bodies, and JSON bodies nested
    too deep (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        if _query_has_nul(scope.get("query_string", b"")):
            await _refuse(scope, send, "nul-character")
            return
        if not _is_json(scope):
            await self.app(scope, receive, send)
            return
        messages, body = await _read_body(receive)
        problem = _json_problem(body) if body is not None else None
        if problem is not None:
            await _refuse(scope, send, problem)
            return
        await self.app(scope, replay(messages, receive), send)


def _is_json(scope: Scope) -> bool:
    if scope.get("method") not in ("POST", "PUT", "PATCH", "DELETE"):
        return False
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return b"json" in value.lower()
    return False


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """The whole body (bounded by ``propusk.limits``); None if the client went away."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        if not message.get("more_body", False):
            return messages, b"".join(m.get("body", b"") for m in messages)
