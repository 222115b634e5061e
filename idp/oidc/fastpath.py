"""The client_credentials hot path: no database, no threadpool hop, one signature.

For ``grant_type=client_credentials`` with ``client_secret_basic``/``client_secret_post`` the
token route answers from memory: clients come from a per-app cache (invalidated in-process on
every client change, re-checked against the database after ``CLIENT_TTL`` seconds, which is
how changes made by the CLI or another instance arrive), the signing key object is cached and
re-read every ``KEY_TTL`` seconds (rotation by another process shows up then; old keys keep
verifying). Issuing such a token writes no row: its ``token.issued`` audit event is buffered
here and appended in batches by a background task (``AuditBuffer``), at most ``FLUSH_EVERY``
seconds later, and on shutdown.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time
from urllib.parse import parse_qsl, unquote

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from idp.oidc import keys, service
from idp.oidc import tokens as tok
from idp.oidc.service import ClientInfo
from propusk.db import session_scope
from propusk.settings import Settings

log = logging.getLogger("propusk.oidc")

CLIENT_TTL = 10.0
MISS_TTL = 1.0
KEY_TTL = 30.0
FLUSH_EVERY = 1.0
HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_error(error: str, description: str, status: int = 400, headers=None) -> Response:
    body = orjson.dumps({"error": error, "error_description": description})
    return Response(
        body,
        status_code=status,
        media_type="application/json",
        headers={**HEADERS, **(headers or {})},
    )


class ClientCache:
    """client_id → ClientInfo snapshot, with a short TTL and in-process invalidation."""

    def __init__(self, sessionmaker) -> None:
        self.sessionmaker = sessionmaker
        self._entries: dict[str, tuple[float, ClientInfo | None]] = {}
        service.register_cache(self)

    def invalidate(self, client_id: str) -> None:
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
            info = service.get_client(session, client_id)
        self._entries[client_id] = (time.monotonic(), info)
        return info

    def get(self, session, client_id: str) -> ClientInfo | None:
        """Sync lookup with the caller's session (principal resolver)."""
        fresh, info = self.peek(client_id)
        if fresh:
            return info
        info = service.get_client(session, client_id)
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

    def invalidate(self) -> None:
        self._key = None

    def load(self) -> keys.LoadedKey:
        with session_scope(self.sessionmaker) as session:
            key = keys.current_key(session, self.settings)
        self._key, self._at = key, time.monotonic()
        return key

    async def aget(self) -> keys.LoadedKey:
        key = self._key
        if key is not None and time.monotonic() - self._at < KEY_TTL:
            return key
        return await run_in_threadpool(self.load)


class AuditBuffer:
    """Buffered ``token.issued`` events of stateless tokens, appended in batches."""

    def __init__(self, sessionmaker) -> None:
        self.sessionmaker = sessionmaker
        self.pending: list[tuple[str, dict]] = []
        self._task: asyncio.Task | None = None

    def add(self, actor: str, body: dict) -> None:
        self.pending.append((actor, body))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while self.pending:
            await asyncio.sleep(FLUSH_EVERY)
            await run_in_threadpool(self.flush)

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        from audit.service import NewEvent, record_many

        try:
            with session_scope(self.sessionmaker) as session:
                record_many(
                    session, [NewEvent("token.issued", actor, None, body) for actor, body in batch]
                )
        except Exception:  # keep the events for the next attempt
            log.exception("audit flush failed; %d events kept", len(batch))
            self.pending[:0] = batch

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
        await run_in_threadpool(self.flush)


def parse_form(body: bytes) -> list[tuple[str, str]] | None:
    """application/x-www-form-urlencoded → pairs; None if not valid UTF-8."""
    try:
        return parse_qsl(body.decode(), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return None


def basic_credentials(header: str | None) -> tuple[str, str] | bool | None:
    """(client_id, secret) from ``Authorization: Basic``; None if absent; False if malformed."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return False
    return unquote(client_id), unquote(secret)


class FastPath:
    """Serves client_credentials for secret-based clients; ``None`` = not for me."""

    def __init__(self, sessionmaker, settings: Settings) -> None:
        self.settings = settings
        self.clients = ClientCache(sessionmaker)
        self.keys = KeyCache(sessionmaker, settings)
        self.audit = AuditBuffer(sessionmaker)

    async def client_credentials(self, request: Request, form: dict[str, str]) -> Response | None:
        basic = basic_credentials(request.headers.get("authorization"))
        if basic is False:
            return oauth_error(
                "invalid_client",
                "Malformed Basic credentials",
                401,
                {"WWW-Authenticate": 'Basic realm="propusk"'},
            )
        if "client_assertion" in form or "client_assertion_type" in form:
            return None
        posted = form.get("client_secret")
        if basic and posted:
            return oauth_error("invalid_request", "Use one client authentication method")
        if basic:
            method, (client_id, secret) = "client_secret_basic", basic
        elif posted and form.get("client_id"):
            method, client_id, secret = "client_secret_post", form["client_id"], posted
        else:
            return None
        client = await self.clients.aget(client_id)
        if client is None or client.auth_method != method or not client.check_client_secret(secret):
            extra = {"WWW-Authenticate": 'Basic realm="propusk"'} if basic else None
            return oauth_error(
                "invalid_client", "Client authentication failed", 401 if basic else 400, extra
            )
        if "client_credentials" not in client.grant_types:
            return oauth_error("unauthorized_client", "client_credentials is not allowed")
        scope = client.get_allowed_scope(form.get("scope"))
        if scope is None:
            return oauth_error("invalid_scope", "A requested scope is not allowed")
        key = await self.keys.aget()
        token = tok.access_token(
            key,
            self.settings,
            client_id=client.client_id,
            sub=client.client_id,
            scope=scope,
            jti=tok.new_jti(),
        )
        body = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.settings.access_token_ttl,
        }
        if scope:
            body["scope"] = scope
        self.audit.add(
            f"client:{client.client_id}", {"grant_type": "client_credentials", "scope": scope}
        )
        return Response(orjson.dumps(body), media_type="application/json", headers=HEADERS)
