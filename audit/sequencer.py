"""The background sequencer: integrates the outbox (``audit_pending``) into the Merkle log and
signs the log's checkpoints.

One daemon thread per app process, started and stopped with the app. It runs a batch when a
transaction that called ``record_deferred`` commits in this process (an ``after_commit`` hook
sets a flag) and otherwise every ``interval`` seconds, which picks up other processes' events.
Several sequencers (processes, the CLI) may run at once: the sequencer lock serialises them
and each integrated row is deleted in the transaction that sequenced it.

Given the settings, it is also the log's signer: at start-up it signs a checkpoint of the
current tree (size 0 for an empty log) before the app serves, then one whenever the tree grew
and the latest is ``audit_checkpoint_every`` seconds old (``checkpoint.sign_if_due``; signing
is idempotent per tree size, so several processes may sign). On SQLite, where events are
appended at once, the thread only signs.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from audit import checkpoint, service
from propusk.db import session_scope
from propusk.errors import is_database_outage
from propusk.settings import Settings

log = logging.getLogger("propusk.audit")

_wake = threading.Event()
BUSY_BATCH = 100  # events in one run that mean "busy"
BUSY_GATHER = 0.2  # seconds to gather while busy


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


def sign_due(factory: sessionmaker[Session], settings: Settings, *, now: bool = False):
    """Sign a checkpoint in its own transaction: of the current tree (``now``; idempotent per
    size) or only when one is due (``checkpoint.sign_if_due``). Returns it, or None."""
    with session_scope(factory) as session:
        if now:
            return checkpoint.sign_checkpoint(session, settings)
        return checkpoint.sign_if_due(session, settings)


class Sequencer:
    """The per-process sequencer thread (see the module docstring)."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        interval: float = 0.1,
        gather: float = 0.02,
        *,
        settings: Settings | None = None,
        integrate: bool = True,
    ) -> None:
        self.factory = factory
        self.interval = interval
        # after a wake-up, let more commits join the batch: under load one sequencer transaction
        # per ~20 ms, not one per audited commit
        self.gather = gather
        self.busy_gather = max(gather, BUSY_GATHER)
        self.settings = settings  # None: integrate only, sign nothing
        self.integrate = integrate
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_sign = 0.0

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._start_up()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="audit-sequencer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        _wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _start_up(self) -> None:
        """Integrate what is pending and sign the current tree before the app serves; on
        failure (e.g. the database is not reachable yet) the thread signs once it can."""
        if self.settings is None:
            return
        try:
            if self.integrate:
                run_once(self.factory)
            sign_due(self.factory, self.settings, now=True)
        except Exception:
            log.warning("audit checkpoint not signed at start-up; retrying", exc_info=True)

    def _sign_if_due(self) -> None:
        if self.settings is None or time.monotonic() < self._next_sign:
            return
        # the cadence needs a check about twice per period, not one per loop
        period = max(self.interval, self.settings.audit_checkpoint_every / 2)
        self._next_sign = time.monotonic() + period
        sign_due(self.factory, self.settings)

    def _run(self) -> None:
        failing = False
        gather = self.gather
        while not self._stop.is_set():
            if _wake.wait(self.interval):
                _wake.clear()
                self._stop.wait(gather)
            try:
                if self.integrate:
                    n = run_once(self.factory)
                    # busy (a steady stream of audited commits): gather longer, so the fixed
                    # cost of a sequencer transaction is shared by more events
                    gather = self.busy_gather if n >= BUSY_BATCH else self.gather
                self._sign_if_due()
            except Exception as exc:  # e.g. an unmigrated database; logged once per streak
                if not failing:
                    if is_database_outage(exc):  # one line, no traceback: the cause is known
                        log.warning("audit sequencer: database unavailable; retrying")
                    else:
                        log.warning("audit sequencer failed; retrying", exc_info=True)
                failing = True
                self._stop.wait(1.0)
                continue
            if failing:
                log.warning("audit sequencer: resumed")
                failing = False
