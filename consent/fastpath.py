"""The gated pull fast lane: ``GET /api/v1/subjects/{id}/data`` without routing or a threadpool
hop, its transfer group-committed with concurrent pulls (``consent.batcher``).

A pure ASGI middleware in front of the app (like ``idp.oidc.fastpath.TokenFastLane``). It answers
only the ordinary case — a well-formed request with a client access token verified within the
last few seconds (``idp.oidc.principal.ClientBearers``; its revocation and its client's row are
checked again in the batch's transaction), a policy that allows ``vault:read``, a registered
operator — and hands everything else, untouched, to the route, which then answers (401, 403,
404, 422, …) as always. The decision, the records and the response bodies are the route's own:
``flows.pull_many`` and ``consent.answers``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool

from consent.answers import pull_answer, to_json
from consent.batcher import CommitUncertain, PullBatcher
from consent.flows import PullAsk
from consent.parties import organization_of
from idp.oidc.principal import ClientBearer, client_bearers
from policies import service as policies
from propusk.db import session_scope
from propusk.errors import PROBLEM_JSON, Problem, is_database_outage, outage_problem
from propusk.observability import ROUTE_KEY

PREFIX, SUFFIX = "/api/v1/subjects/", "/data"
PULL_ROUTE = PREFIX + "{subject_id}" + SUFFIX  # the route's template (transfers.py)
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
KEYS_RE = re.compile(r"[a-z0-9_.-]+(,[a-z0-9_.-]+)*")
MAX_PURPOSE, MAX_CATEGORIES = 120, 2000  # the route's Query limits

Answer = tuple[int, bytes, bytes, dict[str, str]]
UNAVAILABLE = Problem(
    "the transfer could not be completed; it may or may not have been recorded",
    status=503,
    type="retry",
    title="Service unavailable",
)
WAIT_SECONDS = 60.0  # a pull is answered within this, or 503
SERVER_ERROR = Problem("internal error", status=500, type="internal-error")
log = logging.getLogger("propusk.consent")


def parse_query(raw: bytes) -> tuple[str, str] | None:
    """(purpose, categories) from exactly ``purpose=…&categories=…`` in either order, each once,
    with plain catalogue keys; ``None`` for anything else (the route will judge it)."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return None
    found: dict[str, str] = {}
    for pair in text.split("&"):
        name, sep, value = pair.partition("=")
        if not sep or name not in ("purpose", "categories") or name in found:
            return None
        found[name] = unquote(value)
    purpose, categories = found.get("purpose"), found.get("categories")
    if purpose is None or categories is None:
        return None
    if len(purpose) > MAX_PURPOSE or len(categories) > MAX_CATEGORIES:
        return None
    if not KEYS_RE.fullmatch(purpose) or not KEYS_RE.fullmatch(categories):
        return None
    return purpose, categories


class GatedPullLane:
    """ASGI middleware serving ordinary gated pulls through the ``PullBatcher``."""

    def __init__(self, app, fastapi_app, batcher: PullBatcher) -> None:
        self.app = app
        self.state = fastapi_app.state
        self.fastapi_app = fastapi_app
        self.batcher = batcher
        self._operators: set[uuid.UUID] = set()  # registered operators (registrations are final)
        self._loading: dict[str, asyncio.Future] = {}  # token → its verification in progress

    async def __call__(self, scope, receive, send) -> None:
        admitted = None
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"].startswith(PREFIX)
            and self.batcher.running
        ):
            try:
                admitted = await self._admit(scope)
            except Exception as exc:
                if not is_database_outage(exc):  # a bug here must not cost the caller the route
                    log.exception("gated pull lane: admission failed; the route serves it")
                else:  # the route could only say the same: answer it here
                    return await self._answer(scope, send, _failed(exc, scope["path"]))
        if admitted is None:
            return await self.app(scope, receive, send)
        try:
            answer = await self._serve(admitted, scope["path"])
        except Exception as exc:  # outside the app's error middleware: answer problem+json here
            answer = _failed(exc, scope["path"])
        await self._answer(scope, send, answer)

    async def _answer(self, scope, send, answer: Answer) -> None:
        scope[ROUTE_KEY] = PULL_ROUTE  # the metrics' label (propusk.observability)
        status, ctype, body, headers = answer
        raw = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
        raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    async def _admit(self, scope) -> tuple[PullAsk, ClientBearer] | None:
        """The pull and what its token was verified as, when this lane may serve the request."""
        path: str = scope["path"]
        subject = path[len(PREFIX) : -len(SUFFIX)]
        if not path.endswith(SUFFIX) or not UUID_RE.fullmatch(subject):
            return None
        query = parse_query(scope.get("query_string", b""))
        token = bearer_token(scope)
        if query is None or token is None:
            return None
        bearer = await self._verified(token)
        if bearer is None or not self._allowed(bearer.principal):
            return None
        org_id = bearer.principal.organization_id
        if org_id is None or not await self._is_operator(org_id):
            return None
        purpose, categories = query
        principal = bearer.principal
        ask = PullAsk(org_id, uuid.UUID(subject), purpose, categories.split(","), principal.subject)
        return ask, bearer

    async def _serve(self, admitted: tuple[PullAsk, ClientBearer], path: str) -> Answer:
        ask, bearer = admitted
        try:
            future = self.batcher.submit_async(ask, token=bearer.token)
        except RuntimeError:  # the batcher stopped meanwhile: nothing was recorded
            return _problem(UNAVAILABLE, path)
        try:
            result = await asyncio.wait_for(future, WAIT_SECONDS)
        except Problem as problem:  # raised by the service, as the route would answer it
            return _problem(problem, path)
        except CommitUncertain as exc:
            return uncertain_answer(exc, path)
        except (RuntimeError, TimeoutError):
            return _problem(UNAVAILABLE, path)
        if isinstance(result, Problem):  # bad input, or a token refused in the batch (whose
            return _problem(result, path)  # client's cached verifications are dropped there)
        status, body = pull_answer(result, path)
        ctype = b"application/json" if status == 200 else PROBLEM_JSON.encode()
        return status, ctype, to_json(body), {}

    async def _verified(self, token: str) -> ClientBearer | None:
        bearers = client_bearers(self.fastapi_app)
        if bearers is None:
            return None
        hit = bearers.peek(token)
        if hit is not None:
            return hit
        # one verification per token at a time: when a cached token expires under load, every
        # request carrying it would otherwise verify it again in the threadpool
        loading = self._loading.get(token)
        if loading is None:
            loading = asyncio.ensure_future(run_in_threadpool(bearers.load, token))
            self._loading[token] = loading
            loading.add_done_callback(lambda _f: self._loading.pop(token, None))
        return await asyncio.shield(loading)

    def _allowed(self, principal) -> bool:
        engine = getattr(self.state, "policy_engine", None)
        if engine is None:
            return False
        return policies.decide(principal, "vault", "read", domain="*", engine=engine).allowed

    async def _is_operator(self, org_id: uuid.UUID) -> bool:
        if org_id in self._operators:
            return True
        if await run_in_threadpool(self._load_operator, org_id):
            self._operators.add(org_id)
            return True
        return False

    def _load_operator(self, org_id: uuid.UUID) -> bool:
        with session_scope(self.state.sessionmaker) as session:
            try:
                organization_of(session, org_id, "operator")
            except Problem:
                return False
        return True


def bearer_token(scope) -> str | None:
    """The bearer token of an ASGI request scope, if it carries one."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


def uncertain_answer(exc: CommitUncertain, path: str) -> Answer:
    """A batch whose commit failed. When the database went away under it, the answer is the
    outage's, as a route whose commit failed gets it (its detail already says that a change sent
    as it failed may have been saved); any other failed commit is the lane's own «retry»."""
    if is_database_outage(exc):  # found through the commit's cause
        return _failed(exc, path)
    return _problem(UNAVAILABLE, path)


def _failed(exc: BaseException, path: str) -> Answer:
    """A failure of the lane's own work: a database outage answered as every route answers it
    (``propusk.errors``), anything else as the app's internal error."""
    if is_database_outage(exc):
        log.warning("gated pull lane: database unavailable (%s)", type(exc).__name__)
        return _problem(outage_problem(), path)
    log.error("gated pull lane failed", exc_info=exc)
    return _problem(SERVER_ERROR, path)


def _problem(problem: Problem, path: str) -> Answer:
    body = to_json(problem.body(path))
    return problem.status, PROBLEM_JSON.encode(), body, dict(problem.headers or {})
