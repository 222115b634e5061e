"""Response models of the audit API (hashes are standard base64, as in C2SP checkpoints)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


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


class StatusOut(BaseModel):
    """The log at a glance (the platform administrator's console)."""

    tree_size: int
    pending: int = Field(description="events in the outbox the sequencer has not integrated yet")
    checkpoint_size: int | None = Field(description="tree size of the newest signed checkpoint")
    checkpoint_at: datetime | None
    checkpoint_age_seconds: int | None
    unsigned: int = Field(description="events of the tree no signed checkpoint covers yet")


class DivergenceOut(BaseModel):
    position: int | None = Field(description="the first leaf position that is not as signed")
    code: str = Field(description="what differs (audit.verify.CODES; Russian in the catalogue)")
    reason: str = Field(description="the same in English, as `propusk audit verify` prints it")


class VerificationOut(BaseModel):
    """The result of ``propusk audit verify``, run by the server within a time budget."""

    ok: bool = Field(description="no divergence among the events checked")
    complete: bool = Field(description="false: the time budget ran out before the end")
    checked: int = Field(description="events recomputed and checked")
    size: int
    checkpoints: int = Field(description="signed checkpoints verified")
    signed_size: int
    unsigned: int
    root_hash: str | None = Field(description="hex root of the recomputed tree (when complete)")
    divergence: DivergenceOut | None
    seconds: float
