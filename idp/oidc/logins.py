"""Logins of idp.oidc: parked authorization requests and the browser's login sessions.

An authorization request waits here (a *login transaction*, ``TXN_TTL`` seconds, single use)
while the person logs in upstream or answers the consent screen; a finished upstream login
becomes a *login session* (the ``propusk_session`` cookie holds its random id, the database its
SHA-256) that carries when and how the person authenticated (``auth_time``, ``amr``, ``acr``).
Services take a session and never commit.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from idp.oidc import acr
from idp.oidc import repository as repo
from idp.oidc.clients import plausible_id
from idp.oidc.models import LoginSession, LoginTransaction
from propusk.crypto import token_hash
from propusk.db import utcnow
from propusk.security import AuthContext

TXN_TTL = 600


# -- parked authorization requests ----------------------------------------------------------
def create_transaction(session: Session, params: dict[str, str]) -> str:
    """Park an authorization request while the user logs in upstream; returns its id."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    repo.add(
        session,
        LoginTransaction(
            id_hash=token_hash(raw),
            params=params,
            created_at=now,
            expires_at=now + timedelta(seconds=TXN_TTL),
        ),
    )
    return raw


def _open_txn(session: Session, raw: str | None, *, for_update: bool) -> LoginTransaction | None:
    """The parked request's row if it is known, unused and not expired."""
    if not plausible_id(raw, 200):
        return None
    row = repo.get_txn(session, token_hash(raw), for_update=for_update)
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


def peek_transaction(session: Session, raw: str | None) -> dict[str, str] | None:
    """The parked request without using it up (a consent screen shown again on reload)."""
    row = _open_txn(session, raw, for_update=False)
    return dict(row.params) if row is not None else None


def take_transaction(
    session: Session, raw: str | None, belongs: Callable[[dict], bool] | None = None
) -> dict[str, str] | None:
    """Single use: the parked request, or None if unknown, used, expired — or not ``belongs``
    to the caller (then it stays usable: someone else's attempt must not burn it)."""
    row = _open_txn(session, raw, for_update=True)
    if row is None or (belongs is not None and not belongs(row.params)):
        return None
    row.used_at = utcnow()
    session.flush()
    return dict(row.params)


# -- login sessions ------------------------------------------------------------------------
def create_login_session(
    session: Session,
    person_id: uuid.UUID,
    *,
    amr: list[str],
    upstream: str,
    ttl: int,
    confirmed: bool = False,
    auth_time: datetime | None = None,
) -> str:
    """A browser login; ``auth_time`` is when the person authenticated upstream (not later
    than now: a clock ahead of ours is not believed), ``confirmed`` whether ESIA vouched for the
    account (it decides the ``acr``)."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    when = min(auth_time, now) if auth_time is not None else now
    repo.add(
        session,
        LoginSession(
            id_hash=token_hash(raw),
            person_id=person_id,
            auth_time=when,
            amr=amr,
            upstream=upstream,
            acr=acr.for_login(upstream, confirmed),
            confirmed=confirmed,
            expires_at=now + timedelta(seconds=ttl),
        ),
    )
    return raw


def auth_context(login: LoginSession) -> AuthContext:
    """What a signature made in this login session records about its signer."""
    return AuthContext(
        auth_time=login.auth_time,
        method=acr.method(login.upstream, login.amr or []),
        acr=login.acr,
        confirmed=login.confirmed,
        session_hash=login.id_hash,
    )


def active_login_session(session: Session, raw: str | None) -> LoginSession | None:
    if not raw:
        return None
    row = repo.get_login_session(session, token_hash(raw))
    if row is None or row.ended_at is not None or row.expires_at <= utcnow():
        return None
    return row


def end_login_session(session: Session, raw: str | None) -> LoginSession | None:
    row = active_login_session(session, raw)
    if row is not None:
        row.ended_at = utcnow()
        session.flush()
    return row
