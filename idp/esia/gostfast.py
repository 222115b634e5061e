"""A faster pure-Python GOST R 34.10-2012 (256) backend: Jacobian coordinates, fixed windows.

gostcrypto computes in affine coordinates with a recursive modular inverse per point addition,
which makes a login spend most of its time in GOST (bench/bench_esia.py). This backend uses the
same curves (read from gostcrypto, so the parameters are not retyped) with Jacobian doubling and
mixed additions, a precomputed table for the base point and Python's ``pow(x, -1, p)``. It is
cross-checked against gostcrypto and OpenSSL in tests; select it with
``PROPUSK_ESIA_GOST_BACKEND=fast``. Like gostcrypto it is not constant-time: fine for a client
secret signed once per login on a server, not for a shared host facing local attackers.
"""

from __future__ import annotations

import secrets
import threading
from functools import lru_cache

from gostcrypto import gostsignature

Point = tuple[int, int]  # affine
Jacobian = tuple[int, int, int]  # Z == 0 is the point at infinity
INFINITY: Jacobian = (1, 1, 0)
WINDOW = 4


class Curve:
    def __init__(self, p: int, a: int, b: int, q: int, gx: int, gy: int) -> None:
        self.p, self.a, self.b, self.q = p, a % p, b % p, q
        self.g = (gx, gy)
        self._base_table: list[list[Point]] | None = None
        self._lock = threading.Lock()

    # --- field helpers -----------------------------------------------------------------------

    def on_curve(self, point: Point) -> bool:
        x, y = point
        p = self.p
        return 0 <= x < p and 0 <= y < p and (y * y - x * x * x - self.a * x - self.b) % p == 0

    def to_affine(self, point: Jacobian) -> Point | None:
        x, y, z = point
        if z == 0:
            return None
        p = self.p
        zi = pow(z, -1, p)
        zi2 = zi * zi % p
        return x * zi2 % p, y * zi2 * zi % p

    # --- group law (Jacobian, general a) -----------------------------------------------------

    def double(self, point: Jacobian) -> Jacobian:
        x1, y1, z1 = point
        if z1 == 0 or y1 == 0:
            return INFINITY
        p = self.p
        xx = x1 * x1 % p
        yy = y1 * y1 % p
        yyyy = yy * yy % p
        zz = z1 * z1 % p
        s = 2 * ((x1 + yy) ** 2 - xx - yyyy) % p
        m = (3 * xx + self.a * zz * zz) % p
        x3 = (m * m - 2 * s) % p
        y3 = (m * (s - x3) - 8 * yyyy) % p
        z3 = ((y1 + z1) ** 2 - yy - zz) % p
        return x3, y3, z3

    def add_affine(self, point: Jacobian, other: Point) -> Jacobian:
        """Mixed addition: Jacobian + affine."""
        x1, y1, z1 = point
        if z1 == 0:
            return other[0], other[1], 1
        p = self.p
        x2, y2 = other
        z1z1 = z1 * z1 % p
        u2 = x2 * z1z1 % p
        s2 = y2 * z1 * z1z1 % p
        h = (u2 - x1) % p
        r = 2 * (s2 - y1) % p
        if h == 0:
            return self.double(point) if r == 0 else INFINITY
        hh = h * h % p
        i = 4 * hh % p
        j = h * i % p
        v = x1 * i % p
        x3 = (r * r - j - 2 * v) % p
        y3 = (r * (v - x3) - 2 * y1 * j) % p
        z3 = ((z1 + h) ** 2 - z1z1 - hh) % p
        return x3, y3, z3

    def add(self, one: Jacobian, two: Jacobian) -> Jacobian:
        if one[2] == 0:
            return two
        if two[2] == 0:
            return one
        affine = self.to_affine(two)
        assert affine is not None
        return self.add_affine(one, affine)

    # --- scalar multiplication ---------------------------------------------------------------

    def _table(self, point: Point) -> list[Point | None]:
        """[None, P, 2P, …, 15P] in affine form."""
        table: list[Point | None] = [None, point]
        acc: Jacobian = (point[0], point[1], 1)
        for _ in range(2, 1 << WINDOW):
            acc = self.add_affine(acc, point)
            table.append(self.to_affine(acc))
        return table

    def multiply(self, k: int, point: Point) -> Jacobian:
        """k·P with a fixed 4-bit window (256 doublings, ≤ 64 mixed additions)."""
        table = self._table(point)
        acc = INFINITY
        for shift in range((k.bit_length() + WINDOW - 1) // WINDOW * WINDOW - WINDOW, -1, -WINDOW):
            for _ in range(WINDOW):
                acc = self.double(acc)
            digit = (k >> shift) & ((1 << WINDOW) - 1)
            if digit:
                entry = table[digit]
                if entry is not None:
                    acc = self.add_affine(acc, entry)
        return acc

    def _base(self) -> list[list[Point]]:
        """For every 4-bit position i: [j·16^i·G for j in 0..15] (affine; index 0 unused)."""
        with self._lock:
            if self._base_table is None:
                rows: list[list[Point]] = []
                base: Point = self.g
                for _ in range((self.q.bit_length() + WINDOW - 1) // WINDOW):
                    row = self._table(base)
                    rows.append(row)  # type: ignore[arg-type]
                    nxt = self.to_affine(self.multiply(1 << WINDOW, base))
                    assert nxt is not None
                    base = nxt
                self._base_table = rows
            return self._base_table

    def multiply_base(self, k: int) -> Jacobian:
        """k·G with the precomputed table: additions only."""
        acc = INFINITY
        for row in self._base():
            digit = k & ((1 << WINDOW) - 1)
            if digit:
                acc = self.add_affine(acc, row[digit])
            k >>= WINDOW
            if not k:
                break
        return acc


@lru_cache(maxsize=16)
def curve_for(curve_name: str) -> Curve:
    """The curve of a gostcrypto parameter-set name (Edwards curves already converted)."""
    engine = gostsignature.new(
        gostsignature.MODE_256, gostsignature.CURVES_R_1323565_1_024_2019[curve_name]
    )
    return Curve(engine._p, engine._a, engine._b, engine._q, engine._x, engine._y)


def _e(curve: Curve, digest_le: bytes) -> int:
    """The digest read little-endian (RFC 7091), reduced; zero becomes one (the standard)."""
    e = int.from_bytes(digest_le, "little") % curve.q
    return e or 1


def public_key(curve: Curve, d: int) -> Point:
    point = curve.to_affine(curve.multiply_base(d))
    assert point is not None
    return point


def sign(curve: Curve, d: int, digest_le: bytes) -> tuple[int, int]:
    """(r, s) over a Streebog digest as produced (little-endian value)."""
    e = _e(curve, digest_le)
    q = curve.q
    while True:
        k = secrets.randbelow(q - 1) + 1
        point = curve.to_affine(curve.multiply_base(k))
        if point is None:
            continue
        r = point[0] % q
        if r == 0:
            continue
        s = (r * d + k * e) % q
        if s:
            return r, s


def verify(curve: Curve, public: Point, digest_le: bytes, r: int, s: int) -> bool:
    q = curve.q
    if not (0 < r < q and 0 < s < q) or not curve.on_curve(public):
        return False
    v = pow(_e(curve, digest_le), -1, q)
    z1 = s * v % q
    z2 = (q - r * v % q) % q
    point = curve.add(curve.multiply_base(z1), curve.multiply(z2, public))
    affine = curve.to_affine(point)
    return affine is not None and affine[0] % q == r
