"""Builders of valid identifiers and upstream identities for idp tests (fresh every call)."""

from __future__ import annotations

import random
import uuid
from datetime import date

from idp.upstream import UpstreamChild, UpstreamIdentity, UpstreamOrgRole


def snils() -> str:
    """A random SNILS with a correct checksum, formatted as ``123-456-789 01``."""
    while True:
        number = f"{random.randint(1_002_000, 999_999_999):09d}"
        total = sum(int(d) * w for d, w in zip(number, range(9, 0, -1), strict=True))
        check = total % 101
        check = 0 if check == 100 else check
        return f"{number[:3]}-{number[3:6]}-{number[6:9]} {check:02d}"


def bad_snils(good: str) -> str:
    """The same SNILS with a wrong checksum."""
    check = (int(good[-2:]) + 1) % 100
    return f"{good[:-2]}{check:02d}"


def ogrn() -> str:
    body = "1" + f"{random.randint(0, 10**11 - 1):011d}"
    return body + str(int(body) % 11 % 10)


def oid() -> str:
    return str(random.randint(10**9, 10**10 - 1))


def name() -> str:
    return "Тест" + uuid.uuid4().hex[:10]


def identity(
    *,
    esia_oid: str | None = None,
    last_name: str | None = None,
    first_name: str = "Иван",
    middle_name: str | None = "Петрович",
    birth_date: date | None = date(1985, 3, 1),
    snils_value: str | None = None,
    children: tuple[UpstreamChild, ...] = (),
    organizations: tuple[UpstreamOrgRole, ...] = (),
) -> UpstreamIdentity:
    return UpstreamIdentity(
        esia_oid=esia_oid or oid(),
        last_name=last_name or name(),
        first_name=first_name,
        middle_name=middle_name,
        birth_date=birth_date,
        snils=snils_value,
        trusted=True,
        children=children,
        organizations=organizations,
    )


def child(
    *,
    esia_oid: str | None = None,
    birth_date: date = date(2013, 9, 1),
    snils_value=None,
    last_name: str | None = None,
) -> UpstreamChild:
    return UpstreamChild(
        esia_oid=esia_oid or oid(),
        last_name=last_name or name(),
        first_name="Маша",
        middle_name="Ивановна",
        birth_date=birth_date,
        snils=snils_value,
    )
