"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification (pure functions).

The tree is stored as *complete* subtrees addressed by ``(level, index)``: the node at level
``l`` and index ``i`` covers leaves ``[i * 2**l, (i + 1) * 2**l)``. Every subtree that an RFC
proof needs is either such a node or a right-edge fold of at most log2(n) of them, so the proof
functions here first compute *which* ranges they need (``*_ranges``), the store fetches the
nodes of those ranges in one query, and ``range_hash`` folds them. Appends keep only the right
edge (``Frontier``): one leaf costs O(log n) hashes and emits the nodes it completes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

Hash = bytes
Node = tuple[int, int]  # (level, index)
Range = tuple[int, int]  # [start, end) leaf positions

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(leaf: bytes) -> Hash:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: Hash, right: Hash) -> Hash:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def range_nodes(start: int, end: int) -> list[Node]:
    """The complete aligned subtrees whose left-to-right fold is MTH(D[start:end])."""
    nodes: list[Node] = []
    while end - start > 0:
        size = end - start
        if size & (size - 1) == 0:
            level = size.bit_length() - 1
            nodes.append((level, start >> level))
            break
        k = _split(size)
        level = k.bit_length() - 1
        nodes.append((level, start >> level))
        start += k
    return nodes


def fold(hashes: Sequence[Hash]) -> Hash:
    """MTH of a range from its complete subtrees, left to right (the right edge folds first)."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def range_hash(start: int, end: int, lookup: Callable[[Node], Hash]) -> Hash:
    return fold([lookup(n) for n in range_nodes(start, end)])


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]) as leaf ranges, leaf-side first."""
    if not 0 <= index < size:
        raise ValueError("index outside the tree")
    out: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
    out.reverse()
    return out


def consistency_ranges(first: int, second: int) -> list[Range]:
    """RFC 9162 §2.1.4.1 PROOF(m, D[n]) as leaf ranges, in proof order."""
    if not 0 < first <= second:
        raise ValueError("need 0 < first <= second")
    out: list[Range] = []
    start, end, m, complete = 0, second, first, True
    while True:
        size = end - start
        if m == size:
            if not complete:
                out.append((start, end))
            break
        k = _split(size)
        if m <= k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
            m -= k
            complete = False
    out.reverse()
    return out


def nodes_for(ranges: Iterable[Range]) -> set[Node]:
    return {n for r in ranges for n in range_nodes(*r)}


@dataclass
class Frontier:
    """The right edge of a tree: hashes of its complete subtrees, largest (leftmost) first.

    Their levels are the set bits of ``size``, so only the hashes are stored.
    """

    size: int = 0
    hashes: list[Hash] = field(default_factory=list)

    @classmethod
    def from_bytes(cls, size: int, blob: bytes) -> Frontier:
        hashes = [blob[i : i + 32] for i in range(0, len(blob), 32)]
        if len(hashes) != size.bit_count():
            raise ValueError("frontier does not match the tree size")
        return cls(size, hashes)

    def to_bytes(self) -> bytes:
        return b"".join(self.hashes)

    def append(self, leaf: Hash) -> list[tuple[int, int, Hash]]:
        """Add one leaf hash; returns the interior nodes it completes as (level, index, hash)."""
        completed: list[tuple[int, int, Hash]] = []
        acc, level, index = leaf, 0, self.size
        while index & 1:
            acc = node_hash(self.hashes.pop(), acc)
            level += 1
            index >>= 1
            completed.append((level, index, acc))
        self.hashes.append(acc)
        self.size += 1
        return completed

    def root(self) -> Hash:
        return fold(self.hashes)


def verify_inclusion(index: int, size: int, leaf: Hash, proof: Sequence[Hash], root: Hash) -> bool:
    """RFC 9162 §2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: Hash, second_root: Hash, proof: Sequence[Hash]
) -> bool:
    """RFC 9162 §2.1.4.2."""
    if not 0 < first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root
