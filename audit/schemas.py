"""Response models of the audit API (hashes are standard base64, as in C2SP checkpoints)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class InclusionProofOut(BaseModel):
    index: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    hashes: list[str]


class ConsistencyProofOut(BaseModel):
    first: int
    second: int
    first_root: str
    second_root: str
    hashes: list[str]


class EventOut(BaseModel):
    index: int
    id: str
    type: str
    actor: str
    subject: str | None
    time: str
    body: dict[str, Any]
    leaf: str  # the exact hashed bytes (UTF-8 JSON)
    leaf_hash: str
    tree_size: int
    root_hash: str
    hashes: list[str]
    checkpoint: str
