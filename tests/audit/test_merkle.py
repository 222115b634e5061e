"""RFC 6962 hashing and proofs against the Certificate Transparency test vectors and pymerkle.

The vectors are those of certificate-transparency-go/merkle (leaf numbers there are 1-based).
Proofs here are built the way the store builds them: ranges -> complete nodes -> fold, with the
nodes emitted by ``Frontier.append`` (exactly what the database holds).
"""

from __future__ import annotations

import random

import pytest
from pymerkle import InmemoryTree

from audit import merkle
from tests.audit.reference import root_from_leaves

LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    bytes(range(0x60, 0x70)),
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [  # (0-based index, tree size, path)
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY = [  # (first size, second size, path)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


class Store:
    """The in-memory twin of the database store: leaf hashes plus the nodes appends emit."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.frontier = merkle.Frontier()
        self.nodes: dict[merkle.Node, bytes] = {}
        self.roots = [merkle.EMPTY_ROOT]
        for leaf in leaves:
            lh = merkle.leaf_hash(leaf)
            self.nodes[(0, self.frontier.size)] = lh
            for level, index, h in self.frontier.append(lh):
                self.nodes[(level, index)] = h
            self.roots.append(self.frontier.root())

    def hashes(self, ranges: list[merkle.Range]) -> list[bytes]:
        return [merkle.range_hash(a, b, self.nodes.__getitem__) for a, b in ranges]

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return self.hashes(merkle.inclusion_ranges(index, size))

    def consistency(self, first: int, second: int) -> list[bytes]:
        return self.hashes(merkle.consistency_ranges(first, second))


@pytest.fixture(scope="module")
def store() -> Store:
    return Store(LEAVES)


def test_empty_root():
    assert merkle.EMPTY_ROOT.hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert merkle.Frontier().root() == merkle.EMPTY_ROOT


def test_roots_match_vectors(store):
    assert [r.hex() for r in store.roots[1:]] == ROOTS
    for size in range(1, 9):
        ref = root_from_leaves([merkle.leaf_hash(x) for x in LEAVES[:size]])
        assert ref.hex() == ROOTS[size - 1]
        assert store.hashes([(0, size)])[0].hex() == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_vectors(store, index, size, path):
    proof = store.inclusion(index, size)
    assert [p.hex() for p in proof] == path
    root = bytes.fromhex(ROOTS[size - 1])
    leaf = merkle.leaf_hash(LEAVES[index])
    assert merkle.verify_inclusion(index, size, leaf, proof, root)
    assert not merkle.verify_inclusion(index, size, merkle.leaf_hash(b"x"), proof, root)
    if proof:
        bad = [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]
        assert not merkle.verify_inclusion(index, size, leaf, bad, root)
        assert not merkle.verify_inclusion(index, size, leaf, proof[:-1], root)


@pytest.mark.parametrize(("first", "second", "path"), CONSISTENCY)
def test_consistency_vectors(store, first, second, path):
    proof = store.consistency(first, second)
    assert [p.hex() for p in proof] == path
    r1, r2 = bytes.fromhex(ROOTS[first - 1]), bytes.fromhex(ROOTS[second - 1])
    assert merkle.verify_consistency(first, second, r1, r2, proof)
    if first != second:
        assert not merkle.verify_consistency(first, second, r2, r1, proof)
        assert not merkle.verify_consistency(first, second, r1, r2, proof[:-1])


def test_every_proof_of_a_random_tree_against_pymerkle():
    rng = random.Random(6962)
    leaves = [rng.randbytes(rng.randrange(0, 40)) for _ in range(70)]
    ours = Store(leaves)
    oracle = InmemoryTree(algorithm="sha256")
    for leaf in leaves:
        oracle.append_entry(leaf)
    for size in range(1, len(leaves) + 1):
        root = oracle.get_root(size)
        assert ours.roots[size] == root
        for index in range(size):
            proof = ours.inclusion(index, size)
            lh = merkle.leaf_hash(leaves[index])
            assert merkle.verify_inclusion(index, size, lh, proof, root)
        for first in range(1, size + 1):
            proof = ours.consistency(first, size)
            assert merkle.verify_consistency(first, size, oracle.get_root(first), root, proof)


def test_proofs_are_logarithmic():
    for size in (1, 2, 3, 1000, 1_000_000, 2**20 + 12345):
        for index in (0, size // 3, size - 1):
            ranges = merkle.inclusion_ranges(index, size)
            assert len(ranges) <= size.bit_length()
            assert len(merkle.nodes_for(ranges)) <= 2 * size.bit_length()


def test_bad_ranges():
    with pytest.raises(ValueError):
        merkle.inclusion_ranges(5, 5)
    with pytest.raises(ValueError):
        merkle.inclusion_ranges(-1, 5)
    with pytest.raises(ValueError):
        merkle.consistency_ranges(0, 5)
    with pytest.raises(ValueError):
        merkle.consistency_ranges(6, 5)
    with pytest.raises(ValueError):
        merkle.Frontier.from_bytes(3, b"\x00" * 32)
