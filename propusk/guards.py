"""Edge guard of the JSON API: text never contains NUL.

PostgreSQL refuses U+0000 in text, so a NUL that reached a query would surface as a database
error (a 500) instead of a 4xx. No field of the JSON API can legitimately hold one, so requests
to ``/api/`` carrying NUL in the query string or in a JSON body are refused here, once, as
problem+json. The protocol endpoints (``/oauth2/``, ``/login``, the ESIA simulator) answer in
their own protocol's error shapes (OAuth errors, HTML pages, ESIA codes) and check input
themselves, so the guard leaves them alone.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_JSON_SCAN = 1 << 20  # larger bodies are left to the route's own size limits


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _query_has_nul(raw: bytes) -> bool:
    lowered = raw.lower()
    return b"%00" in lowered or b"\x00" in raw


def _json_has_nul(body: bytes) -> bool:
    if b"\\u0000" not in body and b"\x00" not in body:
        return False  # the common case: no parse at all
    try:
        return _has_nul(json.loads(body))
    except (ValueError, UnicodeDecodeError):
        return b"\x00" in body  # malformed JSON: the route answers 422 unless a raw NUL


async def _refuse(scope: Scope, send: Send) -> None:
    body = {
        "type": "https://propusk.dev/problems/nul-character",
        "title": "Invalid request",
        "status": 400,
        "detail": "text must not contain the NUL character (U+0000)",
        "instance": scope["path"],
    }
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


class NulGuard:
    """ASGI middleware refusing NUL in query strings and JSON bodies (see module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        if _query_has_nul(scope.get("query_string", b"")):
            await _refuse(scope, send)
            return
        if not _is_json(scope):
            await self.app(scope, receive, send)
            return
        messages, body = await _read_body(receive)
        if body is not None and _json_has_nul(body):
            await _refuse(scope, send)
            return
        await self.app(scope, _replay(messages, receive), send)


def _is_json(scope: Scope) -> bool:
    if scope.get("method") not in ("POST", "PUT", "PATCH", "DELETE"):
        return False
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return b"json" in value.lower()
    return False


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """Buffer the body up to MAX_JSON_SCAN; beyond that, stop scanning (None)."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        size += len(message.get("body", b""))
        if size > MAX_JSON_SCAN:
            return messages, None
        if not message.get("more_body", False):
            return messages, b"".join(m.get("body", b"") for m in messages)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
