"""One deadline for the whole of a login's talk with ESIA.

httpx's timeouts bound each step of one call: the connection, then every read and write. A
login's callback makes several calls (the token exchange, ESIA's certificate, the person, the
contacts, the children, each child's record, the organisation roles), and a server that answers
a byte just before each read would run out would hold a login — and a worker thread — for as
long as it likes. ``login_deadline`` sets one end time for everything the callback asks ESIA;
``DeadlineTransport`` cuts every call's timeouts to the time left and checks the end time
between the chunks of an answer, so the callback ends with ``esia.timeout`` (the Russian page
«Госуслуги не отвечают») at the deadline, give or take one read wait cut to the time that was
left when its call began.

The end time is a context variable: each callback, in its own worker thread, has its own, and
calls made outside a login (none today) keep the plain per-call timeouts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import httpx

_END: ContextVar[float | None] = ContextVar("esia_login_deadline", default=None)


@contextmanager
def login_deadline(seconds: float | None) -> Iterator[None]:
    """Every call to ESIA in the block must be over ``seconds`` from now (None: no deadline)."""
    token = _END.set(None if seconds is None else time.monotonic() + seconds)
    try:
        yield
    finally:
        _END.reset(token)


def _left(request: httpx.Request, end: float) -> float:
    """Seconds left before ``end``; raises ``httpx.ReadTimeout`` (an ``esia.timeout``) at 0."""
    left = end - time.monotonic()
    if left <= 0:
        raise httpx.ReadTimeout("the login's deadline for ESIA has passed", request=request)
    return left


def _cut(timeouts: dict[str, float | None], left: float) -> dict[str, float]:
    """httpx's per-call timeouts (connect, read, write, pool), none longer than ``left``."""
    return {name: left if value is None else min(value, left) for name, value in timeouts.items()}


class _DeadlineStream(httpx.SyncByteStream):
    """An answer's body read chunk by chunk, stopped once the deadline has passed."""

    def __init__(self, inner: httpx.SyncByteStream, end: float, request: httpx.Request) -> None:
        self._inner, self._end, self._request = inner, end, request

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            _left(self._request, self._end)
            yield chunk

    def close(self) -> None:
        self._inner.close()


class DeadlineTransport(httpx.BaseTransport):
    """Wraps the transport ESIA's client uses; a no-op outside ``login_deadline``."""

    def __init__(self, inner: httpx.BaseTransport | None = None) -> None:
        self._inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        end = _END.get()
        if end is None:
            return self._inner.handle_request(request)
        left = _left(request, end)
        request.extensions["timeout"] = _cut(request.extensions.get("timeout", {}), left)
        response = self._inner.handle_request(request)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_DeadlineStream(response.stream, end, request),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._inner.close()
