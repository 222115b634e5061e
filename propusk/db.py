"""Database engine, the declarative base, and the transaction boundary.

Services take a ``Session`` and never commit; the request boundary (``get_session``) and the
CLI boundary (``session_scope``) commit on success and roll back on any error.
"""

from __future__ import annotations

import os
import select
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from fastapi import Request
from sqlalchemy import DateTime, MetaData, create_engine, event, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both SQLite (which drops tzinfo) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is UTC:  # PostgreSQL sessions run in UTC (make_engine): as returned
            return value
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("hide_parameters", True)  # errors never log row values
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    # sessions in UTC whatever the server's default: timestamps come back as UTC datetimes
    # (no per-value zone conversion; every time Propusk stores is UTC). Options given in the
    # URL are kept.
    connect_args = dict(kwargs.pop("connect_args", {}))
    given = connect_args.get("options") or make_url(url).query.get("options") or ""
    if "timezone" not in str(given).lower():
        connect_args["options"] = f"{given} -c TimeZone=UTC".strip()
    kwargs["connect_args"] = connect_args
    kwargs.setdefault("hide_parameters", True)  # errors never log row values (names, SNILS …)
    return create_engine(url, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=True)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any exception."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_session(request: Request) -> Iterator[Session]:
    """FastAPI dependency: the request's session; committed when the handler succeeds.

    The commit happens before the response is sent (FastAPI runs the code after ``yield`` of a
    dependency before sending since 0.106), so a client never sees success for a rolled-back
    change.
    """
    with session_scope(request.app.state.sessionmaker) as session:
        yield session


def is_postgres(session_or_engine) -> bool:
    bind = getattr(session_or_engine, "bind", None) or session_or_engine
    return bind.dialect.name == "postgresql"


def libpq_conninfo(database_url: str) -> str:
    """The settings' SQLAlchemy URL as psycopg connects to it directly (a listener's own
    connection, outside the pool)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class BackgroundThread:
    """A daemon thread an app starts and stops with itself (the listeners of PostgreSQL
    notifications): ``_run`` loops until ``_stop`` is set; ``listening`` tells the tests and
    the app when it is in place."""

    thread_name = "background"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()
        self._wake: tuple[int, int] | None = None  # a pipe: stop() ends a wait at once

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self.listening.clear()
        self._wake = self._wake or os.pipe()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        wake, self._wake = self._wake, None
        if wake is not None:
            os.write(wake[1], b"x")
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5)
        if wake is not None and (thread is None or not thread.is_alive()):
            os.close(wake[0])
            os.close(wake[1])

    def notifications(self, conn: psycopg.Connection, timeout: float) -> list[psycopg.Notify]:
        """The notifications ``conn`` has within ``timeout`` seconds; at once when the thread
        is being stopped. ``conn.notifies(timeout=…)`` cannot be woken, so each stop waited out
        the listener's poll (half a second on every app's shutdown: most of a test's teardown).
        The socket and the wake pipe are watched together, then whatever libpq has is read
        without blocking (also what it had buffered before the wait)."""
        wake = self._wake
        watched = [conn.fileno()] + ([wake[0]] if wake is not None else [])
        select.select(watched, [], [], timeout)
        if self._stop.is_set():
            return []
        return list(conn.notifies(timeout=0))

    def _run(self) -> None:
        raise NotImplementedError
