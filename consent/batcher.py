"""Group commit for gated pulls: concurrent requests share one transaction.

Each gated pull writes a transfer record and an audit outbox row and must commit before it
answers; one transaction per request costs about as much in round trips and WAL flushes as the
whole decision. The batcher's worker threads take every pull waiting in the queue (up to
``max_batch``), decide and record them together with ``flows.pull_many`` (a constant number of
statements per batch) and commit once; then each caller gets its own outcome.

The gate's guarantee is unchanged: every subject of the batch is locked *shared* before its
consent rows are read, and the locks are held until the batch's commit, so a withdrawal that
committed first is seen, and one that comes later waits for the records. A batch that fails
(a deadlock victim) is rolled back and each of its pulls is retried alone, so one bad pull cannot
fail the others; a batch that met a database outage is rolled back and each of its callers gets
the outage's answer (alone they would fail alike). Nothing is answered before its record
committed; a failed commit is answered as uncertain (``CommitUncertain``), never retried. The
worker threads outlive an outage: the next batch after the database returns commits.

This is a transaction boundary like a request (it commits); services stay commit-free.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass

from consent import flows
from consent.flows import Outcome, PullAsk
from idp.oidc.principal import unauthorized
from idp.oidc.token_store import ClientToken, refused_client_tokens
from propusk.db import utcnow
from propusk.errors import Problem, is_database_outage
from propusk.settings import Settings

log = logging.getLogger("propusk.consent")

Result = Outcome | Problem


@dataclass
class _Job:
    ask: PullAsk
    token: ClientToken | None  # the caller's client token, checked again in the batch
    future: Future | asyncio.Future
    loop: asyncio.AbstractEventLoop | None = None  # set for asyncio futures


def _settle(jobs: list[tuple[_Job, Result | None, BaseException | None]]) -> None:
    """Resolve futures (on their loop's thread for asyncio ones); a cancelled caller is gone,
    and one future that cannot be resolved never keeps the others waiting."""
    for job, result, exc in jobs:
        try:
            if job.future.done():
                continue
            if exc is not None:
                job.future.set_exception(exc)
            else:
                job.future.set_result(result)
        except Exception:  # e.g. cancelled between done() and set_*()
            log.debug("a pull answer could not be delivered", exc_info=True)


def _refused(reason: str) -> Problem:
    """The 401 the principal resolver gives a token that no longer speaks for its client."""
    return unauthorized(reason)


class PullBatcher:
    """Worker threads that decide, record and commit gated pulls in batches."""

    def __init__(
        self, sessionmaker, settings: Settings, *, workers: int = 2, max_batch: int = 64
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.workers = workers
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self.batches = 0  # counters for the bench and the operator (batch size = pulls/batches)
        self.pulls = 0
        self._count_lock = threading.Lock()

    @property
    def running(self) -> bool:
        return bool(self._threads)

    def start(self) -> None:
        if self._threads:
            return
        for n in range(self.workers):
            t = threading.Thread(target=self._loop, name=f"consent-pulls-{n}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        """Finish what is queued, then stop the workers; a pull that slipped in behind the
        stop markers is failed (nothing was recorded for it), never left waiting."""
        threads, self._threads = self._threads, []
        for _ in threads:
            self._queue.put(None)
        for t in threads:
            t.join(timeout=30)
        left = []
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                left.append((job, None, RuntimeError("the pull batcher stopped")))
        self._finish(left)

    def submit(self, ask: PullAsk, token: ClientToken | None = None) -> Future:
        """Queue one pull; the future gets its ``Outcome`` or ``Problem`` after the commit.

        ``token``: the verified client token the pull came with; the batch's transaction checks
        that it is not revoked and that its client still exists as it was verified (401 if not).
        """
        job = _Job(ask, token, Future())
        self._put(job)
        return job.future

    def submit_async(self, ask: PullAsk, token: ClientToken | None = None) -> asyncio.Future:
        """``submit`` for the event loop: an asyncio future, resolved on the loop's thread
        (one wake-up of the loop per batch, not per pull)."""
        loop = asyncio.get_running_loop()
        job = _Job(ask, token, loop.create_future(), loop)
        self._put(job)
        return job.future

    def _put(self, job: _Job) -> None:
        if not self._threads:
            raise RuntimeError("the pull batcher is not running")
        self._queue.put(job)

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            batch = [job]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._run(batch)
            if stop:
                return

    def _run(self, batch: list[_Job]) -> None:
        try:
            results = self._transaction(batch)
        except CommitUncertain as exc:  # it may have committed: a retry could record twice
            log.error("commit of a pull batch of %d failed: %s", len(batch), exc.__cause__)
            self._finish([(job, None, exc) for job in batch])
            return
        except Exception as exc:  # rolled back before its commit: retry each pull alone
            if is_database_outage(exc):  # alone they fail alike: each caller gets the outage
                log.warning("pull batch of %d: database unavailable", len(batch))
                self._finish([(job, None, exc) for job in batch])
                return
            if len(batch) > 1:
                log.warning("pull batch of %d failed (%s); retrying one by one", len(batch), exc)
                for job in batch:
                    self._run([job])
                return
            if not isinstance(exc, Problem):
                log.exception("gated pull failed")
            self._finish([(batch[0], None, exc)])
            return
        with self._count_lock:
            self.batches += 1
            self.pulls += len(batch)
        self._finish([(job, result, None) for job, result in zip(batch, results, strict=True)])

    @staticmethod
    def _finish(done: list[tuple[_Job, Result | None, BaseException | None]]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop | None, list] = {}
        for item in done:
            by_loop.setdefault(item[0].loop, []).append(item)
        for loop, items in by_loop.items():
            if loop is None:
                _settle(items)
            else:
                try:
                    loop.call_soon_threadsafe(_settle, items)
                except RuntimeError:  # the loop closed: nobody is waiting any more
                    log.warning("%d pull answers dropped: their event loop is closed", len(items))

    def _transaction(self, batch: list[_Job]) -> list[Result]:
        now = utcnow()
        session = self.sessionmaker()
        try:
            try:
                refused = refused_client_tokens(session, [j.token for j in batch if j.token])
                live = [j for j in batch if _reason(j, refused) is None]
                outcomes = flows.pull_many(session, self.settings, [j.ask for j in live], now)
            except BaseException:
                session.rollback()
                raise
            try:
                session.commit()
            except Exception as exc:
                raise CommitUncertain("the batch's commit failed") from exc
        finally:
            session.close()
        it = iter(outcomes)
        return [
            next(it) if (reason := _reason(j, refused)) is None else _refused(reason) for j in batch
        ]


def _reason(job: _Job, refused: dict[ClientToken, str]) -> str | None:
    """Why this job's token was refused in the batch, if it was."""
    return None if job.token is None else refused.get(job.token)


class CommitUncertain(Exception):
    """The commit itself failed: the server may or may not have committed the batch."""
