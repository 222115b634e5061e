"""HTTP routes of the audit package: checkpoint, verifier key, proofs, events."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from audit import checkpoint, console, service
from audit.schemas import (
    ConsistencyProofOut,
    EventOut,
    InclusionProofOut,
    StatusOut,
    VerificationOut,
)
from propusk import caches
from propusk.db import session_scope
from propusk.deps import SessionDep, SettingsDep, require
from propusk.errors import NotFound, Problem, problems
from propusk.security import Principal

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
PUBLIC = {"x-public": True}
TEXT = "text/plain; charset=utf-8"
CHECKPOINT = caches.declare(
    caches.CacheSpec(
        "audit.checkpoint",
        "-",
        "PROPUSK_AUDIT_CHECKPOINT_EVERY s (default 1 s)",
        "the latest signed checkpoint note served by GET /api/v1/audit/checkpoint",
        "nothing: the sequencer signs a new one on its cadence, the next read after the TTL "
        "shows it",
    )
)
MAX_SIZE = 2**62  # larger numbers are rejected as validation errors, never overflow the DB


# The plain-text answers, documented with their media type (the body is not JSON).
CHECKPOINT_ANSWER = {
    200: {
        "description": "The latest signed checkpoint: a C2SP signed note (origin, tree size, "
        "base64 root hash, a time extension line, a blank line, the signature lines).",
        "content": {
            "text/plain": {
                "schema": {"type": "string"},
                "example": "propusk.example/propusk/audit\n0\n"
                "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\ntime 2026-09-01T10:00:00Z\n\n"
                "\u2014 propusk.example/propusk/audit <base64 key id and signature>\n",
            }
        },
    }
}
KEY_ANSWER = {
    200: {
        "description": "The checkpoint verifier key to pin (C2SP vkey: "
        "<name>+<hex key id>+<base64 of 0x01 and the Ed25519 public key>).",
        "content": {
            "text/plain": {
                "schema": {"type": "string"},
                "example": "propusk.example/propusk/audit+<hex key id>+<base64 key>\n",
            }
        },
    }
}


class NoCheckpoint(Problem):
    status, type, title = 404, "audit-no-checkpoint", "No signed checkpoint yet"


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    responses=CHECKPOINT_ANSWER,
    openapi_extra=PUBLIC,
)
async def get_checkpoint(request: Request) -> PlainTextResponse:
    """The latest signed checkpoint (C2SP tlog-checkpoint signed note).

    Signs nothing: the audit sequencer signs one at start-up and then on its cadence
    (``audit.sequencer``); 404 before the first. Cheap by design: served from memory for
    ``audit_checkpoint_every`` seconds (the signing cadence), without a database round trip.
    """
    settings = request.app.state.settings
    cached: tuple[float, str] | None = getattr(request.app.state, "audit_checkpoint", None)
    now = time.monotonic()
    if cached is None or now - cached[0] >= settings.audit_checkpoint_every:
        note = await run_in_threadpool(_latest_note, request.app.state.sessionmaker)
        if note is None:
            raise NoCheckpoint("the log has not signed a checkpoint yet")
        cached = (now, note)
        request.app.state.audit_checkpoint = cached
    return PlainTextResponse(cached[1], media_type=TEXT, headers={"Cache-Control": "no-cache"})


def _latest_note(factory: sessionmaker[Session]) -> str | None:
    with session_scope(factory) as session:
        cp = checkpoint.latest_signed(session)
        return None if cp is None else cp.note


@router.get("/key", response_class=PlainTextResponse, responses=KEY_ANSWER, openapi_extra=PUBLIC)
def get_key(session: SessionDep, settings: SettingsDep) -> PlainTextResponse:
    """The checkpoint verifier key (C2SP vkey) to pin; 404 before the first checkpoint."""
    vkey = checkpoint.published_verifier_key(session, settings)
    if vkey is None:
        raise NotFound("the log has no signing key yet", type="audit-no-key")
    return PlainTextResponse(vkey + "\n", media_type=TEXT)


@router.get("/proofs/inclusion", response_model=InclusionProofOut, responses=problems(400))
def inclusion(
    session: SessionDep,
    settings: SettingsDep,
    index: Annotated[int, Query(ge=0, le=MAX_SIZE)],
    tree_size: Annotated[int | None, Query(ge=1, le=MAX_SIZE)] = None,
    principal: Principal = require("audit.proof", "read"),
) -> InclusionProofOut:
    """RFC 9162 inclusion proof; ``tree_size`` defaults to the latest signed checkpoint."""
    proof = service.inclusion_at(session, settings, index, tree_size)
    return InclusionProofOut(
        index=proof.index,
        tree_size=proof.tree_size,
        leaf_hash=service.b64(proof.leaf_hash),
        root_hash=service.b64(proof.root_hash),
        hashes=[service.b64(h) for h in proof.hashes],
    )


@router.get("/proofs/consistency", response_model=ConsistencyProofOut, responses=problems(400))
def consistency(
    session: SessionDep,
    first: Annotated[int, Query(ge=1, le=MAX_SIZE)],
    second: Annotated[int, Query(ge=1, le=MAX_SIZE)],
    principal: Principal = require("audit.proof", "read"),
) -> ConsistencyProofOut:
    """RFC 9162 consistency proof from tree size ``first`` to ``second``."""
    proof = service.consistency(session, first, second)
    return ConsistencyProofOut(
        first=first,
        second=second,
        first_root=service.b64(proof.first_root),
        second_root=service.b64(proof.second_root),
        hashes=[service.b64(h) for h in proof.hashes],
    )


@router.get("/events/{index}", response_model=EventOut)
def get_event(
    session: SessionDep,
    settings: SettingsDep,
    index: Annotated[int, Path(ge=0, le=MAX_SIZE)],
    principal: Principal = require("audit.event", "read"),
) -> EventOut:
    """One event, its exact leaf bytes and its inclusion proof in the latest checkpoint."""
    return EventOut(**service.event_with_proof(session, index, settings))


@router.get("/status", response_model=StatusOut)
def get_status(session: SessionDep, principal: Principal = require("audit.event", "read")) -> dict:
    """The log at a glance: its size, the newest signed checkpoint (size, time, age) and the
    outbox backlog."""
    return console.status(session)


@router.post("/verify", response_model=VerificationOut)
def verify(
    request: Request, settings: SettingsDep, principal: Principal = require("audit.event", "read")
) -> dict:
    """Run ``propusk audit verify`` now: recompute the tree from the table and check it against
    every signed checkpoint, within a time budget (``complete`` says whether it reached the end);
    one at a time (409 ``audit-verify-running``). Changes nothing."""
    return console.verify_now(request.app.state.sessionmaker, settings)
