"""Response bodies of gated transfers, shared by the routes and the pull fast lane
(``consent.fastpath``), so both answer byte-for-byte the same shapes."""

from __future__ import annotations

import json
import uuid
from typing import Any

import orjson

from consent.flows import Outcome
from consent.gate import Decision
from propusk.errors import Forbidden


def decision_body(decision: Decision, transfer_id: uuid.UUID) -> dict[str, Any]:
    return {
        "transfer_id": str(transfer_id),
        "decision": decision.outcome,
        "subject_id": str(decision.subject_id),
        "purpose": decision.purpose,
        "allowed": list(decision.allowed),
        "consent_ids": decision.consent_id_strings(),
        "allowed_by": {k: str(v) for k, v in decision.allowed.items()},
        "refused": decision.refused,
        "suppliers": decision.supplier_strings(),
    }


def refused_problem(path: str, body: dict[str, Any]) -> dict[str, Any]:
    """The 403 problem+json body of a refused transfer (returned, not raised, so the record
    commits)."""
    problem = Forbidden(
        "no valid consent covers the requested categories",
        type="transfer-refused",
        title="Transfer refused",
    )
    return {**problem.body(path), **body}


def pull_answer(outcome: Outcome, path: str) -> tuple[int, dict[str, Any]]:
    """(status, body) of ``GET …/subjects/{id}/data``: 200 with the allowed data, or 403."""
    body = decision_body(outcome.decision, outcome.transfer.id)
    if not outcome.decision.allowed:
        return 403, refused_problem(path, body)
    return 200, {**body, "data": outcome.data}


def to_json(body: dict[str, Any]) -> bytes:
    """orjson, or the json module for what orjson refuses (integers beyond 64 bits in vault
    values): the answer must never fail once its transfer is recorded. The lane and the route
    send the same bytes (the route's answer model documents them; pydantic's validation of a
    body this module built would only cost time on every pull)."""
    try:
        return orjson.dumps(body)
    except TypeError:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
