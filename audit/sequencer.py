"""The background sequencer: integrates the outbox (``audit_pending``) into the Merkle log.

One daemon thread per app process, started and stopped with the app. It runs a batch when a
transaction that called ``record_deferred`` commits in this process (an ``after_commit`` hook
sets a flag) and otherwise every ``interval`` seconds, which picks up other processes' events.
Several sequencers (processes, the CLI) may run at once: the sequencer lock serialises them
and each integrated row is deleted in the transaction that sequenced it.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from audit import service
from propusk.db import session_scope

log = logging.getLogger("propusk.audit")

_wake = threading.Event()


def _after_commit(session: Session) -> None:
    if session.info.pop(service.PENDING_FLAG, False):
        _wake.set()


def _after_rollback(session: Session) -> None:
    session.info.pop(service.PENDING_FLAG, None)


event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_soft_rollback", lambda s, _t: _after_rollback(s))


def run_once(factory: sessionmaker[Session]) -> int:
    """Drain the outbox, one committed transaction per batch; returns how many were sequenced."""
    total = 0
    while True:
        with session_scope(factory) as session:
            n = service.integrate_pending(session)
        total += n
        if n < service.INTEGRATE_BATCH:
            return total


class Sequencer:
    """The per-process sequencer thread (see the module docstring)."""

    def __init__(
        self, factory: sessionmaker[Session], interval: float = 0.1, gather: float = 0.02
    ) -> None:
        self.factory = factory
        self.interval = interval
        # after a wake-up, let more commits join the batch: under load one sequencer transaction
        # per ~20 ms, not one per audited commit
        self.gather = gather
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="audit-sequencer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        _wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        failing = False
        while not self._stop.is_set():
            if _wake.wait(self.interval):
                _wake.clear()
                self._stop.wait(self.gather)
            try:
                run_once(self.factory)
                failing = False
            except Exception:  # e.g. an unmigrated database; logged once per failure streak
                if not failing:
                    log.warning("audit sequencer failed; retrying", exc_info=True)
                failing = True
                self._stop.wait(1.0)
