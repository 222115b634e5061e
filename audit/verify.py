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
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from audit import checkpoint, merkle, repository
from audit.checkpoint import Checkpoint, NoteError, Verifier
from audit.leaves import format_time

DEADLINE_EVERY = 512  # events walked between looks at the clock


# What went wrong, as a code (``propusk.messages`` names each in Russian for the console).
CODES = (
    "checkpoint-invalid",  # a stored checkpoint's note does not open with the verifier key
    "checkpoint-foreign",  # a checkpoint of another log
    "checkpoint-row",  # a checkpoint row differs from its own signed note
    "empty-root",  # the checkpoint of the empty tree has a non-empty root
    "event-missing",  # a gap in the positions: an event was deleted
    "event-position",  # an event at a position the walk did not expect
    "root-differs",  # the recomputed root differs from a signed checkpoint (forgery)
    "truncated",  # fewer events than a checkpoint or the tree head signs
    "node-extra",  # a stored interior node without leaves
    "node-missing",  # a stored interior node is missing
    "node-differs",  # a stored interior node differs from the recomputed subtree
    "leaf-invalid",  # a leaf is not JSON
    "leaf-moved",  # a leaf names another position (moved or swapped)
    "column-differs",  # a column differs from the hashed leaf (an edited row)
    "leaf-hash",  # the stored leaf hash differs from the leaf bytes
    "inserted",  # events beyond the tree head
    "head-differs",  # the stored tree head differs from the recomputed right edge
)


@dataclass(frozen=True)
class Divergence:
    position: int | None  # the first leaf position that is not what was signed
    reason: str
    code: str


@dataclass
class Report:
    size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    checkpoints: int = 0
    signed_size: int = 0
    divergence: Divergence | None = None
    notes: list[str] = field(default_factory=list)
    complete: bool = True  # False: the time budget ran out first (``checked`` events walked)
    checked: int = 0
    unsigned: int = 0  # the newest events no checkpoint covers yet

    @property
    def ok(self) -> bool:
        return self.divergence is None


class _Found(Exception):
    def __init__(self, position: int | None, reason: str, code: str) -> None:
        self.divergence = Divergence(position, reason, code)


class _OutOfTime(Exception):
    def __init__(self, checked: int) -> None:
        self.checked = checked


def verify_log(session: Session, verifier: Verifier, *, deadline: float | None = None) -> Report:
    """Walk the whole log once; stop at the first divergence.

    ``deadline`` (a ``time.monotonic()`` instant; the console's request passes one) bounds the
    walk: past it the report says ``complete=False`` with the events checked so far, and no
    divergence found among them."""
    report = Report()
    try:
        signed = _signed_checkpoints(session, verifier, deadline)
        report.checkpoints = len(signed)
        report.signed_size = signed[-1].size if signed else 0
        frontier = _walk(session, signed, report, deadline)
        _check_tail(session, signed, frontier, report)
    except _Found as found:
        report.divergence = found.divergence
    except _OutOfTime as stopped:
        report.complete, report.checked = False, stopped.checked
    return report


def _signed_checkpoints(
    session: Session, verifier: Verifier, deadline: float | None = None
) -> list[Checkpoint]:
    out: list[Checkpoint] = []
    for n, row in enumerate(repository.all_checkpoints(session)):
        if deadline is not None and n % DEADLINE_EVERY == 0 and time.monotonic() > deadline:
            raise _OutOfTime(0)
        try:
            cp = checkpoint.open_note(row.note, verifier)
        except NoteError as exc:
            raise _Found(
                None, f"checkpoint of size {row.tree_size}: {exc}", "checkpoint-invalid"
            ) from exc
        if cp.origin != verifier.name:
            raise _Found(
                None,
                f"checkpoint of size {row.tree_size}: foreign origin {cp.origin}",
                "checkpoint-foreign",
            )
        if cp.size != row.tree_size or cp.root != bytes(row.root_hash):
            raise _Found(
                None,
                f"checkpoint row {row.tree_size} differs from its signed note",
                "checkpoint-row",
            )
        out.append(cp)
    return out


def _walk(
    session: Session, signed: list[Checkpoint], report: Report, deadline: float | None
) -> merkle.Frontier:
    frontier = merkle.Frontier()
    stored_nodes = iter(repository.iter_nodes(session))
    pending: Iterator[Checkpoint] = iter(signed)
    target = next(pending, None)
    while target is not None and target.size == 0:
        if target.root != merkle.EMPTY_ROOT:
            raise _Found(None, "the empty checkpoint has a non-empty root", "empty-root")
        target = next(pending, None)
    last_good = 0
    for row in repository.iter_events(session):
        position = frontier.size
        if deadline is not None and position % DEADLINE_EVERY == 0 and time.monotonic() > deadline:
            raise _OutOfTime(position)
        if row.index != position:
            if row.index > position:
                raise _Found(
                    position,
                    f"event missing (next stored position is {row.index})",
                    "event-missing",
                )
            raise _Found(position, f"unexpected position {row.index}", "event-position")
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
                    "root-differs",
                )
            last_good = target.size
            target = next(pending, None)
    if target is not None:
        raise _Found(
            frontier.size,
            f"log truncated: {frontier.size} events but a checkpoint signs {target.size}",
            "truncated",
        )
    extra = next(stored_nodes, None)
    if extra is not None:
        level, index = int(extra.level), int(extra.index)
        raise _Found(
            index << level, f"stored subtree node ({level}, {index}) has no leaves", "node-extra"
        )
    report.size, report.root = frontier.size, frontier.root()
    report.checked = frontier.size
    return frontier


def _check_node(completed: tuple[int, int, bytes], stored: Any) -> None:
    """Proofs are served from stored nodes: each must equal the recomputed subtree."""
    level, index, h = completed
    first, last = index << level, ((index + 1) << level) - 1
    if stored is None or (int(stored.level), int(stored.index)) != (level, index):
        raise _Found(first, f"stored subtree node ({level}, {index}) is missing", "node-missing")
    if bytes(stored.hash) != h:
        raise _Found(
            first,
            f"stored subtree node ({level}, {index}) differs from the recomputed tree "
            f"(proofs for positions {first}..{last} would not verify)",
            "node-differs",
        )


def _check_row(row: Any, lh: bytes) -> None:
    position = row.index
    try:
        doc = json.loads(bytes(row.leaf))
    except ValueError as exc:
        raise _Found(position, "leaf is not valid JSON", "leaf-invalid") from exc
    if not isinstance(doc, dict) or doc.get("index") != position:
        raise _Found(
            position, f"leaf names position {_get(doc, 'index')} (moved or swapped)", "leaf-moved"
        )
    expected = {
        "type": row.event_type,
        "actor": row.actor,
        "subject": row.subject,
        "time": format_time(row.time),
    }
    for key, value in expected.items():
        if doc.get(key) != value:
            raise _Found(position, f"column {key!r} differs from the hashed leaf", "column-differs")
    if bytes(row.leaf_hash) != lh:
        raise _Found(position, "stored leaf hash differs from the leaf bytes", "leaf-hash")


def _get(doc: Any, key: str) -> Any:
    return doc.get(key) if isinstance(doc, dict) else None


def _check_tail(
    session: Session, signed: list[Checkpoint], frontier: merkle.Frontier, report: Report
) -> None:
    size, blob = repository.read_head(session)
    if size > frontier.size:
        raise _Found(
            frontier.size, f"log truncated: {frontier.size} events, tree head {size}", "truncated"
        )
    if size < frontier.size:
        raise _Found(size, f"events beyond the tree head ({size}) were inserted", "inserted")
    if blob != frontier.to_bytes():
        raise _Found(
            None, "the stored tree head differs from the recomputed right edge", "head-differs"
        )
    unsigned = report.unsigned = frontier.size - report.signed_size
    if unsigned:
        report.notes.append(f"{unsigned} newest events are not yet covered by a checkpoint")
