"""The client_credentials hot path: no database, no threadpool hop, one signature.

For ``grant_type=client_credentials`` with ``client_secret_basic``/``client_secret_post`` the
token route answers from memory: clients come from a per-app cache (emptied on every client
change, by whichever process makes it: ``propusk.caches`` notifies the others; re-checked
against the database after ``CLIENT_TTL`` seconds should a notification be missed), the signing
key object (provisioned at app start-up, never created here) is cached likewise and re-read
every ``KEY_TTL`` seconds at the latest (old keys keep verifying). Issuing such a token
writes no row: its ``token.issued`` audit event is buffered here and appended in batches by a
background task (``AuditBuffer``), at most ``FLUSH_EVERY`` seconds later, and on shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import unquote_plus

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from audit.service import NewEvent, record_many
from idp.oidc import keys
from idp.oidc import tokens as tok
from idp.oidc.clientauth import AuthFailures, basic_credentials, check_secret
from idp.oidc.clients import CLIENTS, ClientInfo, get_client
from propusk import caches
from propusk.db import session_scope
from propusk.errors import is_database_outage, outage_oauth
from propusk.limits import declared_length
from propusk.observability import ROUTE_KEY
from propusk.settings import Settings

log = logging.getLogger("propusk.oidc")

CLIENT_TTL = 10.0
MISS_TTL = 1.0
KEY_TTL = 30.0
FLUSH_EVERY = 1.0
# The token lane is an edge lane (outside propusk.headers): its answers carry the headers
# every response gets there.
HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
BASIC = {"WWW-Authenticate": 'Basic realm="propusk"'}
RETRY = {"Retry-After": "5"}


Answer = tuple[int, bytes, dict[str, str]]


def error_answer(error: str, description: str, status: int = 400, headers=None) -> Answer:
    body = orjson.dumps({"error": error, "error_description": description})
    return status, body, {**HEADERS, **(headers or {})}


def too_many(seconds: int) -> Answer:
    """429 for a peer or client over the failed-authentication limits (``AuthFailures``)."""
    return error_answer(
        "temporarily_unavailable",
        "Too many failed client authentications; retry later",
        429,
        {"Retry-After": str(seconds)},
    )


def to_response(answer: Answer) -> Response:
    status, body, headers = answer
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def oauth_error(error: str, description: str, status: int = 400, headers=None) -> Response:
    return to_response(error_answer(error, description, status, headers))


class ClientCache:
    """client_id → ClientInfo snapshot, with a short TTL and in-process invalidation."""

    def __init__(self, sessionmaker) -> None:
        self.sessionmaker = sessionmaker
        self._entries: dict[str, tuple[float, ClientInfo | None]] = {}
        caches.join(CLIENTS.name, self.invalidate)

    def invalidate(self, client_id: str | None) -> None:
        if client_id is None:
            self._entries.clear()
        else:
            self._entries.pop(client_id, None)

    def peek(self, client_id: str) -> tuple[bool, ClientInfo | None]:
        """(fresh, client) without touching the database."""
        hit = self._entries.get(client_id)
        if hit is None:
            return False, None
        age = time.monotonic() - hit[0]
        return age < (CLIENT_TTL if hit[1] is not None else MISS_TTL), hit[1]

    def load(self, client_id: str) -> ClientInfo | None:
        """Blocking: read the client from the database (threadpool or sync code only)."""
        with session_scope(self.sessionmaker) as session:
            info = get_client(session, client_id)
        self._entries[client_id] = (time.monotonic(), info)
        return info

    def get(self, session, client_id: str) -> ClientInfo | None:
        """Sync lookup with the caller's session (principal resolver)."""
        fresh, info = self.peek(client_id)
        if fresh:
            return info
        info = get_client(session, client_id)
        self._entries[client_id] = (time.monotonic(), info)
        return info

    async def aget(self, client_id: str) -> ClientInfo | None:
        fresh, info = self.peek(client_id)
        if fresh:
            return info
        return await run_in_threadpool(self.load, client_id)


class KeyCache:
    """The current signing key object, re-read from the database every ``KEY_TTL`` s."""

    def __init__(self, sessionmaker, settings: Settings) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self._key: keys.LoadedKey | None = None
        self._at = 0.0
        self._gen = -1

    def invalidate(self) -> None:
        self._key = None

    def load(self) -> keys.LoadedKey:
        gen = keys.generation()
        with session_scope(self.sessionmaker) as session:
            key = keys.current_key(session, self.settings)
        self._key, self._at, self._gen = key, time.monotonic(), gen
        return key

    async def aget(self) -> keys.LoadedKey:
        key = self._key
        if (
            key is not None
            and time.monotonic() - self._at < KEY_TTL
            and self._gen == keys.generation()
        ):
            return key
        return await run_in_threadpool(self.load)


class AuditBuffer:
    """Buffered ``token.issued`` events of stateless tokens, appended in batches.

    Events are aggregated per (client, scope) and flush window: one audit leaf says "client X
    obtained N client_credentials tokens with scope S between t0 and t1". One leaf per token
    would cost more than issuing the token itself at thousands of tokens per second.
    """

    def __init__(self, sessionmaker) -> None:
        self.sessionmaker = sessionmaker
        self.pending: dict[tuple[str, str], list] = {}
        self._task: asyncio.Task | None = None

    def add(self, client_id: str, scope: str, now: int) -> None:
        entry = self.pending.get((client_id, scope))
        if entry is None:
            self.pending[(client_id, scope)] = [1, now, now]
            if self._task is None or self._task.done():
                self._task = asyncio.get_running_loop().create_task(self._run())
        else:
            entry[0] += 1
            entry[2] = now

    async def _run(self) -> None:
        while self.pending:
            await asyncio.sleep(FLUSH_EVERY)
            await run_in_threadpool(self.flush)

    def flush(self) -> None:
        batch, self.pending = self.pending, {}
        if not batch:
            return
        events = [
            NewEvent(
                "token.issued",
                f"client:{client_id}",
                f"client:{client_id}",
                {
                    "grant_type": "client_credentials",
                    "scope": scope,
                    "count": count,
                    "first_iat": first,
                    "last_iat": last,
                },
            )
            for (client_id, scope), (count, first, last) in batch.items()
        ]
        try:
            with session_scope(self.sessionmaker) as session:
                record_many(session, events)
        except Exception as exc:  # keep the counts for the next attempt
            outage = is_database_outage(exc)  # a warning, not a traceback a second
            log.log(
                logging.WARNING if outage else logging.ERROR,
                "audit flush failed; %d aggregates kept",
                len(events),
                exc_info=None if outage else exc,
            )
            for key, (count, first, last) in batch.items():
                entry = self.pending.setdefault(key, [0, first, last])
                entry[0] += count
                entry[1] = min(entry[1], first)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
        await run_in_threadpool(self.flush)


def parse_form(body: bytes) -> list[tuple[str, str]] | None:
    """application/x-www-form-urlencoded → pairs; None if not valid UTF-8.

    Hand-rolled for the hot path: ``parse_qsl`` costs as much as a quarter of an ES256
    signature; values without ``%`` or ``+`` (the common case) are taken as they are.
    """
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return None
    pairs = []
    for part in text.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "%" in part or "+" in part:
            try:
                name = unquote_plus(name, errors="strict")
                value = unquote_plus(value, errors="strict")
            except UnicodeDecodeError:
                return None
        pairs.append((name, value))
    return pairs


class FastPath:
    """Serves client_credentials for secret-based clients; ``None`` = not for me."""

    def __init__(self, sessionmaker, settings: Settings, failures: AuthFailures) -> None:
        self.settings = settings
        self.failures = failures
        self.clients = ClientCache(sessionmaker)
        self.keys = KeyCache(sessionmaker, settings)
        self.audit = AuditBuffer(sessionmaker)

    async def client_credentials(
        self, authorization: str | None, form: dict, peer: str | None = None
    ) -> Answer | None:
        """Serve a client_credentials request from memory; None = not a secret-based client.

        ``peer`` is the caller's IP address, for the failed-authentication limits."""
        wait = self.failures.refused(peer)
        if wait is not None:
            return too_many(wait)
        basic = basic_credentials(authorization)
        if basic is False:
            return error_answer("invalid_client", "Malformed Basic credentials", 401, BASIC)
        if "client_assertion" in form or "client_assertion_type" in form:
            return None
        posted = form.get("client_secret")
        if basic and posted:
            return error_answer("invalid_request", "Use one client authentication method")
        if basic:
            method, (client_id, secret) = "client_secret_basic", basic
        elif posted and form.get("client_id"):
            method, client_id, secret = "client_secret_post", form["client_id"], posted
        else:
            return None
        client = check_secret(await self.clients.aget(client_id), method, secret)
        if client is None:
            wait = await run_in_threadpool(self.failures.failed, client_id, peer)
            if wait is not None:
                return too_many(wait)
            status, extra = (401, BASIC) if basic else (400, None)
            return error_answer("invalid_client", "Client authentication failed", status, extra)
        if "client_credentials" not in client.grant_types:
            return error_answer("unauthorized_client", "client_credentials is not allowed")
        scope = client.get_allowed_scope(form.get("scope"))
        if scope is None:
            return error_answer("invalid_scope", "A requested scope is not allowed")
        try:
            key = await self.keys.aget()
        except keys.NoSigningKey:  # provisioned at start-up; never created by a request
            return error_answer("temporarily_unavailable", "No signing key yet", 503, RETRY)
        now = int(time.time())
        token = tok.access_token(
            key,
            self.settings,
            client_id=client.client_id,
            sub=client.client_id,
            scope=scope,
            jti=tok.new_jti(),
            now=now,
        )
        body = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.settings.access_token_ttl,
        }
        if scope:
            body["scope"] = scope
        self.audit.add(client.client_id, scope, now)
        return 200, orjson.dumps(body), HEADERS


class TokenFastLane:
    """Pure ASGI lane in front of the app for ``POST /oauth2/token`` client_credentials.

    FastAPI's routing costs about as much as signing the token; this lane answers secret-based
    client_credentials requests before routing (same code as the route's fast path, so the
    behaviour is identical) and replays everything else, body included, to the app, whose
    ``async def`` token route then serves it.
    """

    MAX_BODY = 64 * 1024

    def __init__(self, app, fast: FastPath) -> None:
        self.app = app
        self.fast = fast

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] != "/oauth2/token" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        declared = declared_length(scope)
        if declared is not None and declared > self.MAX_BODY:  # left unread: the limit judges it
            return await self.app(scope, receive, send)
        body, complete = await _read_body(receive, self.MAX_BODY)
        answer = None
        if complete:
            try:
                answer = await self._try(scope, body)
            except Exception as exc:  # outside the app's error layers: answer it here
                answer = _failed(exc)
        if answer is None:
            return await self.app(scope, _replay(body, complete, receive), send)
        scope[ROUTE_KEY] = "/oauth2/token"  # the metrics' label (propusk.observability)
        status, payload, headers = answer
        raw = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ]
        raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": payload})

    async def _try(self, scope, body: bytes) -> Answer | None:
        ctype = authorization = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                ctype = value.split(b";")[0].strip().lower()
            elif name == b"authorization":
                authorization = value.decode("latin-1")
        if ctype != b"application/x-www-form-urlencoded":
            return None
        pairs = parse_form(body)
        if pairs is None:
            return None
        form = dict(pairs)
        if len(form) != len(pairs) or form.get("grant_type") != "client_credentials":
            return None
        peer = scope.get("client")
        return await self.fast.client_credentials(authorization, form, peer[0] if peer else None)


def _failed(exc: BaseException) -> Answer:
    """A failure of the lane's own work: a database outage answered as the token route answers
    it (``propusk.errors.outage_oauth``), anything else logged and answered 503 too."""
    if is_database_outage(exc):
        log.warning("token lane: database unavailable (%s)", type(exc).__name__)
        status, body, headers = outage_oauth()
        return status, body, {**HEADERS, **headers}
    log.error("token lane failed", exc_info=exc)
    return error_answer("temporarily_unavailable", "Try again", 503, RETRY)


async def _read_body(receive, limit: int) -> tuple[bytes, bool]:
    """Up to ``limit`` bytes; (bytes, True) if that was the whole body."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > limit:
            return b"".join(chunks), False


def _replay(body: bytes, complete: bool, receive):
    """A ``receive`` that yields the already-read body first, then the rest."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": not complete}
        return await receive()

    return replay
