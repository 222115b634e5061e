"""The Merkle tree hash written straight from RFC 9162 §2.1.1 (recursive, for small trees): the
reference the stored tree is checked against, independent of ``audit.merkle``'s range folds."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def root_from_leaves(hashes: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)  # the largest power of two below n
    left, right = root_from_leaves(hashes[:k]), root_from_leaves(hashes[k:])
    return hashlib.sha256(b"\x01" + left + right).digest()
