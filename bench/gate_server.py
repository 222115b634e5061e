"""One Propusk server process for ``bench_gate`` (uvicorn, one process), with the bench's
ungated peer endpoint mounted in front: ``GET /bench/plain/{subject}?categories=…``.

The peer answers the same vault rows as the gated pull with the same bearer handling — the
verified-token cache, the ``vault:read`` policy check, the denylist checked in its
transaction — but no gate decision and no transfer record: what the data would cost to serve
without the gate.

    python -m bench.gate_server URL PORT [--workers N] [--sequencer thread|external]
"""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class PlainRead:
    """ASGI middleware serving the ungated peer; everything else goes to the app."""

    PREFIX = "/bench/plain/"

    def __init__(self, app, fastapi_app) -> None:
        self.app = app
        self.fastapi_app = fastapi_app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.PREFIX):
            return await self.app(scope, receive, send)
        import orjson
        from starlette.concurrency import run_in_threadpool

        from consent.fastpath import bearer_token
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
            subject = uuid.UUID(scope["path"][len(self.PREFIX) :])
            cats = scope["query_string"].decode().partition("=")[2].split(",")
            data = await run_in_threadpool(self._read, subject, cats, bearer.jti)
            status, body = (200, orjson.dumps(data)) if data is not None else (401, b"{}")
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _read(self, subject: uuid.UUID, cats: list[str], jti: str) -> dict | None:
        from consent import vault
        from idp.oidc.service import revoked_client_jtis
        from propusk.db import session_scope

        state = self.fastapi_app.state
        with session_scope(state.sessionmaker) as session:
            if revoked_client_jtis(session, [jti]):
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
