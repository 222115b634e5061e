"""One Propusk server process for ``bench_gate`` (uvicorn, one process), with the bench's
ungated peers mounted in front:

- ``GET /bench/plain/{subject}?categories=…``: one read transaction per request (on 4 threads;
  more only add GIL contention) — how a plain read endpoint is written;
- ``GET /bench/plain-batched/{subject}?categories=…``: the reads group-committed by the same
  ``PullBatcher`` machinery as the gated pull (worker threads, one transaction per batch, one
  vault statement for the whole batch) — the gated pull minus the gate and its records, so the
  ratio against it is the cost of the gate itself.

Both answer the same vault rows as the gated pull with the same bearer handling — the
verified-token cache, the ``vault:read`` policy check, the token's standing (denylist, client
row) checked in the read's transaction — but no gate decision and no transfer record.

    python -m bench.gate_server URL PORT [--workers N] [--sequencer thread|external]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from consent.batcher import PullBatcher

_VAULT_MANY = text(
    "SELECT subject_id, category_key, supplier_id, value_json, value_enc FROM consent_vault_item "
    "WHERE (subject_id, category_key) IN "
    "(SELECT * FROM unnest(CAST(:subjects AS uuid[]), CAST(:categories AS text[]))) "
    "ORDER BY updated_at"
)


class PlainBatcher(PullBatcher):
    """The pull batcher with the gate taken out: per batch, the token check and one read of
    every asked (subject, category) — the same statement shape as the gated batch's vault read."""

    def _transaction(self, batch):
        from consent import vault
        from idp.oidc.token_store import refused_client_tokens

        session = self.sessionmaker()
        try:
            refused = refused_client_tokens(session, [j.token for j in batch])
            live = [j.ask for j in batch if j.token not in refused]
            pairs = [(a.subject_id, c) for a in live for c in a.categories]
            rows: dict[uuid.UUID, list] = {}
            params = {
                "subjects": "{" + ",".join(str(p[0]) for p in pairs) + "}",
                "categories": "{" + ",".join(p[1] for p in pairs) + "}",
            }
            for row in session.execute(_VAULT_MANY, params):
                rows.setdefault(row.subject_id, []).append(row)
            session.commit()
        finally:
            session.close()
        out = []
        for j in batch:
            if j.token in refused:
                out.append(None)
                continue
            mine = [r for r in rows.get(j.ask.subject_id, ()) if r.category_key in j.ask.categories]
            data = vault.values(self.settings, mine)
            out.append({"subject_id": str(j.ask.subject_id), "data": data})
        return out


class PlainRead:
    """ASGI middleware serving the ungated peers; everything else goes to the app."""

    SINGLE, BATCHED = "/bench/plain/", "/bench/plain-batched/"
    THREADS = 4

    def __init__(self, app, fastapi_app) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self.pool = ThreadPoolExecutor(self.THREADS, thread_name_prefix="plain-read")
        state = fastapi_app.state
        self.batcher = PlainBatcher(state.sessionmaker, state.settings)
        fastapi_app.router.on_startup.append(self.batcher.start)
        fastapi_app.router.on_shutdown.append(self.batcher.stop)

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        prefix = next((p for p in (self.SINGLE, self.BATCHED) if path.startswith(p)), None)
        if scope["type"] != "http" or prefix is None:
            return await self.app(scope, receive, send)
        import orjson
        from starlette.concurrency import run_in_threadpool

        from consent.fastpath import bearer_token
        from consent.flows import PullAsk
        from idp.oidc.principal import client_bearers
        from policies import service as policies

        bearers = client_bearers(self.fastapi_app)
        token = bearer_token(scope)
        bearer = bearers.peek(token) or await run_in_threadpool(bearers.load, token)
        engine = self.fastapi_app.state.policy_engine
        status, body = 403, b"{}"
        if (
            bearer is not None
            and policies.decide(bearer.principal, "vault", "read", engine=engine).allowed
        ):
            subject = uuid.UUID(path[len(prefix) :])
            cats = scope["query_string"].decode().partition("=")[2].split(",")
            if prefix == self.BATCHED:
                ask = PullAsk(bearer.principal.organization_id, subject, "", cats, "")
                data = await self.batcher.submit_async(ask, token=bearer.token)
            else:
                loop = asyncio.get_running_loop()
                read = (self._read, subject, cats, bearer.token)
                data = await loop.run_in_executor(self.pool, *read)
            status, body = (200, orjson.dumps(data)) if data is not None else (401, b"{}")
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _read(self, subject: uuid.UUID, cats: list[str], token) -> dict | None:
        from consent import vault
        from idp.oidc.token_store import refused_client_tokens
        from propusk.db import session_scope

        state = self.fastapi_app.state
        with session_scope(state.sessionmaker) as session:
            if refused_client_tokens(session, [token]):
                return None
            data = vault.read(session, state.settings, subject, cats)
        return {"subject_id": str(subject), "data": data}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("port", type=int)
    ap.add_argument("--workers", type=int, default=2, help="consent_pull_workers (0: lane off)")
    ap.add_argument("--sequencer", default="thread", choices=["thread", "external"])
    args = ap.parse_args()

    import uvicorn

    from propusk.app import create_app
    from propusk.runtime import build_runtime
    from propusk.settings import Settings

    settings = Settings(
        database_url=args.url,
        env="test",
        issuer=f"http://127.0.0.1:{args.port}",
        access_token_ttl=3600,
        consent_pull_workers=args.workers,
        audit_sequencer=args.sequencer,
    )
    app = create_app(runtime=build_runtime(settings))
    app.add_middleware(PlainRead, fastapi_app=app)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
