"""What the ESIA simulator remembers between requests: pending logins, codes, tokens.

State lives in memory, guarded by one lock (endpoints run on the event loop and in the
threadpool): the simulator is for demos and tests, one process. Entries expire on the
simulator's clock (``SimulatorConfig.clock``, which tests move).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Pending:
    """A validated v2/ac request waiting for the person to choose who logs in."""

    client_id: str
    redirect_uri: str
    scope: str
    scope_org: str
    state: str
    code_challenge: str | None
    access_type: str
    expires: float


@dataclass
class Grant:
    """An authorization code (and, with ``access_type=offline``, its refresh tokens)."""

    client_id: str
    oid: str
    scope: str
    scope_org: str
    redirect_uri: str
    auth_state: str
    code_challenge: str | None
    access_type: str
    expires: float
    used: bool = False
    tokens: list[str] = field(default_factory=list)


@dataclass
class TokenGrant:
    """What an access token opens in the REST resources: whose data, which scopes."""

    client_id: str
    oid: str
    scopes: set[str]
    expires: float


class SimulatorState:
    """In-memory protocol state, safe across the threadpool."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.pending: dict[str, Pending] = {}
        self.codes: dict[str, Grant] = {}
        self.tokens: dict[str, TokenGrant] = {}
        self.refresh: dict[str, Grant] = {}

    def now(self) -> float:
        """The simulator's time (seconds since the epoch)."""
        return self.clock().timestamp()

    def prune(self, now: float) -> None:
        """Forget expired entries (used codes stay until expiry so reuse is recognised)."""
        for table in (self.pending, self.codes, self.tokens, self.refresh):
            for key in [k for k, v in table.items() if v.expires < now]:
                del table[key]

    def token(self, token: str) -> TokenGrant | None:
        """The unexpired grant behind an access token, else None."""
        with self.lock:
            grant = self.tokens.get(token)
        return grant if grant is not None and grant.expires >= self.now() else None
