"""Keeps one app instance's policy engine current with changes made by any instance.

A change commits a history row and a PostgreSQL ``NOTIFY`` (``policies.repository.notify``);
the listener thread of every instance wakes on it and calls ``PolicyEngine.poll``. A periodic
fingerprint poll covers SQLite (no notifications) and notifications missed while reconnecting.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import psycopg

from policies import repository
from policies.engine import PolicyEngine
from propusk.db import BackgroundThread, libpq_conninfo
from propusk.errors import is_database_outage

log = logging.getLogger("propusk.policies")


class PolicyListener(BackgroundThread):
    """Keeps one engine current: PostgreSQL LISTEN/NOTIFY wakes it at once after a change on
    any instance; a periodic fingerprint poll covers SQLite and missed notifications."""

    thread_name = "policy-listener"

    def __init__(self, engine: PolicyEngine, database_url: str, interval: float = 5.0) -> None:
        super().__init__()
        self.engine = engine
        self.url = database_url
        self.interval = interval
        self._down = False  # in an outage (logged once; its end is logged too)

    def _run(self) -> None:
        postgres = self.url.startswith("postgresql")
        self._down = False
        while not self._stop.is_set():
            try:
                if postgres:
                    self._listen()
                else:
                    self.listening.set()
                    self._stop.wait(self.interval)
                    self.engine.poll()
            except Exception as exc:
                self.listening.clear()
                if not is_database_outage(exc):
                    log.exception("policy listener error; retrying")
                elif not self._down:  # one line per outage, not a traceback a second
                    log.warning("policy listener: database unavailable; reconnecting")
                self._down = self._down or is_database_outage(exc)
                self._stop.wait(1.0)

    def _listen(self) -> None:
        with psycopg.connect(libpq_conninfo(self.url), autocommit=True) as conn:
            conn.execute(f"LISTEN {repository.NOTIFY_CHANNEL}")
            self.listening.set()
            self.engine.poll()  # anything committed before LISTEN took effect (or while down)
            if self._down:
                self._down = False
                log.warning("policy listener: database available again; listening")
            waited = 0.0
            while not self._stop.is_set():
                notes = self.notifications(conn, 0.5)
                woke = bool(notes)
                for note in notes:
                    log.debug("policy change notified: %s", _safe_payload(note.payload))
                waited = 0.0 if woke else waited + 0.5
                if woke or waited >= self.interval:
                    waited = 0.0
                    self.engine.poll()


def _safe_payload(payload: str) -> dict[str, Any]:
    """The version of a notification's payload, for the debug log (nothing else is trusted)."""
    try:
        data = json.loads(payload)
    except ValueError:
        return {}
    return {"version": data.get("version")} if isinstance(data, dict) else {}
