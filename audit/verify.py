"""``audit verify``: recompute the tree from the table and check it against signed checkpoints.

Every row is checked in position order: positions must be contiguous (a gap is a deleted
event), the leaf must name the row's own position and columns (a swapped or edited row), and
its stored leaf hash must match the re-hashed leaf bytes; every stored interior node (what
proofs are served from) must equal the recomputed subtree. The running root is compared with
each signed checkpoint when the recomputed tree reaches its size: a mismatch that no row check
explained (a re-hashed forgery) is located to the first position after the last checkpoint that
still verified. A table shorter than a signed checkpoint or the tree head was truncated.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from audit import checkpoint, merkle, repository
from audit.checkpoint import Checkpoint, NoteError, Verifier
from audit.leaves import format_time


@dataclass(frozen=True)
class Divergence:
    position: int | None  # the first leaf position that is not what was signed
    reason: str


@dataclass
class Report:
    size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    checkpoints: int = 0
    signed_size: int = 0
    divergence: Divergence | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.divergence is None


class _Found(Exception):
    def __init__(self, position: int | None, reason: str) -> None:
        self.divergence = Divergence(position, reason)


def verify_log(session: Session, verifier: Verifier) -> Report:
    """Walk the whole log once; stop at the first divergence."""
    report = Report()
    try:
        signed = _signed_checkpoints(session, verifier)
        report.checkpoints = len(signed)
        report.signed_size = signed[-1].size if signed else 0
        frontier = _walk(session, signed, report)
        _check_tail(session, signed, frontier, report)
    except _Found as found:
        report.divergence = found.divergence
    return report


def _signed_checkpoints(session: Session, verifier: Verifier) -> list[Checkpoint]:
    out: list[Checkpoint] = []
    for row in repository.all_checkpoints(session):
        try:
            cp = checkpoint.open_note(row.note, verifier)
        except NoteError as exc:
            raise _Found(None, f"checkpoint of size {row.tree_size}: {exc}") from exc
        if cp.origin != verifier.name:
            raise _Found(None, f"checkpoint of size {row.tree_size}: foreign origin {cp.origin}")
        if cp.size != row.tree_size or cp.root != bytes(row.root_hash):
            raise _Found(None, f"checkpoint row {row.tree_size} differs from its signed note")
        out.append(cp)
    return out


def _walk(session: Session, signed: list[Checkpoint], report: Report) -> merkle.Frontier:
    frontier = merkle.Frontier()
    stored_nodes = iter(repository.iter_nodes(session))
    pending: Iterator[Checkpoint] = iter(signed)
    target = next(pending, None)
    while target is not None and target.size == 0:
        if target.root != merkle.EMPTY_ROOT:
            raise _Found(None, "the empty checkpoint has a non-empty root")
        target = next(pending, None)
    last_good = 0
    for row in repository.iter_events(session):
        position = frontier.size
        if row.index != position:
            if row.index > position:
                raise _Found(position, f"event missing (next stored position is {row.index})")
            raise _Found(position, f"unexpected position {row.index}")
        lh = merkle.leaf_hash(bytes(row.leaf))
        _check_row(row, lh)
        for completed in frontier.append(lh):
            _check_node(completed, next(stored_nodes, None))
        while target is not None and target.size == frontier.size:
            if frontier.root() != target.root:
                raise _Found(
                    last_good,
                    f"root at size {target.size} differs from the signed checkpoint "
                    f"(divergence within positions {last_good}..{target.size - 1})",
                )
            last_good = target.size
            target = next(pending, None)
    if target is not None:
        raise _Found(
            frontier.size,
            f"log truncated: {frontier.size} events but a checkpoint signs {target.size}",
        )
    extra = next(stored_nodes, None)
    if extra is not None:
        level, index = int(extra.level), int(extra.index)
        raise _Found(index << level, f"stored subtree node ({level}, {index}) has no leaves")
    report.size, report.root = frontier.size, frontier.root()
    return frontier


def _check_node(completed: tuple[int, int, bytes], stored: Any) -> None:
    """Proofs are served from stored nodes: each must equal the recomputed subtree."""
    level, index, h = completed
    first, last = index << level, ((index + 1) << level) - 1
    if stored is None or (int(stored.level), int(stored.index)) != (level, index):
        raise _Found(first, f"stored subtree node ({level}, {index}) is missing")
    if bytes(stored.hash) != h:
        raise _Found(
            first,
            f"stored subtree node ({level}, {index}) differs from the recomputed tree "
            f"(proofs for positions {first}..{last} would not verify)",
        )


def _check_row(row: Any, lh: bytes) -> None:
    position = row.index
    try:
        doc = json.loads(bytes(row.leaf))
    except ValueError as exc:
        raise _Found(position, "leaf is not valid JSON") from exc
    if not isinstance(doc, dict) or doc.get("index") != position:
        raise _Found(position, f"leaf names position {_get(doc, 'index')} (moved or swapped)")
    expected = {
        "type": row.event_type,
        "actor": row.actor,
        "subject": row.subject,
        "time": format_time(row.time),
    }
    for key, value in expected.items():
        if doc.get(key) != value:
            raise _Found(position, f"column {key!r} differs from the hashed leaf")
    if bytes(row.leaf_hash) != lh:
        raise _Found(position, "stored leaf hash differs from the leaf bytes")


def _get(doc: Any, key: str) -> Any:
    return doc.get(key) if isinstance(doc, dict) else None


def _check_tail(
    session: Session, signed: list[Checkpoint], frontier: merkle.Frontier, report: Report
) -> None:
    size, blob = repository.read_head(session)
    if size > frontier.size:
        raise _Found(frontier.size, f"log truncated: {frontier.size} events, tree head {size}")
    if size < frontier.size:
        raise _Found(size, f"events beyond the tree head ({size}) were inserted")
    if blob != frontier.to_bytes():
        raise _Found(None, "the stored tree head differs from the recomputed right edge")
    unsigned = frontier.size - report.signed_size
    if unsigned:
        report.notes.append(f"{unsigned} newest events are not yet covered by a checkpoint")
