"""The upstream login step behind the OIDC authorization endpoint.

The OIDC provider (``idp.oidc``) knows nothing of ESIA: it hands the browser to an ``Upstream``
and gets back an ``UpstreamIdentity``. ESIA (``idp.esia.upstream``) and, outside production, a
development upstream implement it; ``idp.login.on_login`` turns the identity into a person,
guardianships and statuses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from fastapi import Request
from fastapi.responses import Response


@dataclass(frozen=True)
class UpstreamChild:
    esia_oid: str
    last_name: str
    first_name: str
    middle_name: str | None = None
    birth_date: date | None = None
    gender: str | None = None
    snils: str | None = None


@dataclass(frozen=True)
class UpstreamOrgRole:
    """An organisation the person belongs to (ESIA ``/roles``)."""

    org_oid: str
    ogrn: str | None
    name: str
    chief: bool = False
    admin: bool = False
    active: bool = True


@dataclass(frozen=True)
class UpstreamIdentity:
    esia_oid: str
    last_name: str
    first_name: str
    middle_name: str | None = None
    birth_date: date | None = None
    gender: str | None = None
    email: str | None = None
    phone: str | None = None
    snils: str | None = None
    trusted: bool = False
    children: tuple[UpstreamChild, ...] = ()
    organizations: tuple[UpstreamOrgRole, ...] = ()
    auth_method: str = "PWD"
    # When the person authenticated at the upstream (ESIA's ``auth_time``: an ESIA single
    # sign-on session may be older than this login); None = now.
    auth_time: datetime | None = None
    raw_claims: dict = field(default_factory=dict, compare=False)


class UpstreamError(Exception):
    """The upstream refused or failed; ``code`` is stable (e.g. ``ESIA-007014``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Upstream(Protocol):
    name: str

    def start(self, request: Request, txn_id: str) -> Response:
        """Send the browser upstream; ``txn_id`` identifies our pending authorization."""

    def finish(self, request: Request) -> tuple[str, UpstreamIdentity]:
        """Handle the upstream callback: return (txn_id, identity) or raise UpstreamError."""
