"""FastAPI with outer and edge lanes: pure ASGI hot paths in front of the framework.

A kernel module (not ``propusk.app``, the composition root) so that the packages whose
``install`` adds a lane — consent's gated pull lane, idp's token lane — depend on it without
depending on the module that imports every package.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send


class PropuskApp(FastAPI):
    """FastAPI with *outer lanes*: pure ASGI hot paths that see a request before FastAPI does
    (its per-request telemetry checks, error and body-limit layers, routing — measured: about a
    fifth of a gated pull's event-loop time). A lane answers the ordinary case of one endpoint
    itself and passes everything else on unchanged; it must answer its own failures.

    *Edge lanes* sit outside even the body limit and the security-header layer: only for an
    endpoint whose ordinary request is tiny and whose answers the lane shapes completely (the
    client_credentials token lane: it reads at most its own small body cap before handing the
    request on, sets its own headers, and answers its failures) — the two outer layers cost
    about a tenth of a token at ~11k tokens/s (``bench_oidc_token``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._outer_lanes: list[tuple[type, dict[str, Any]]] = []
        self._edge_lanes: list[tuple[type, dict[str, Any]]] = []
        self._entry: ASGIApp | None = None

    def add_outer_lane(self, lane: type, **options: Any) -> None:
        if self._entry is not None:
            raise RuntimeError("outer lanes are added before the app serves")
        self._outer_lanes.append((lane, options))

    def add_edge_lane(self, lane: type, **options: Any) -> None:
        if self._entry is not None:
            raise RuntimeError("edge lanes are added before the app serves")
        self._edge_lanes.append((lane, options))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._entry is None:
            entry: ASGIApp = super().__call__
            for lane, options in [*self._outer_lanes, *self._edge_lanes]:
                entry = lane(entry, **options)
            self._entry = entry
        await self._entry(scope, receive, send)
