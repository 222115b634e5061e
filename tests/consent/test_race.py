"""Withdrawals racing transfer requests in threads — none allowed after the
withdrawal commits.

The withdrawal's own transaction (through a registered withdrawal hook, which runs after it
holds ``FOR UPDATE`` on the consent) counts the allowed transfers already committed. After the
round, the number of allowed transfers must still be exactly that: any transfer the gate allowed
but committed after the withdrawal would show up as an extra one.
"""

from __future__ import annotations

import threading
import uuid

from sqlalchemy import func, select

from consent import flows, lifecycle
from consent import repository as repo
from consent.models import Transfer
from propusk.db import session_scope, utcnow
from propusk.runtime import build_runtime
from tests.support.consent_world import given_consent, operator_with_template
from tests.support.settings import make_settings


def _allowed_transfers(session, subject_id: uuid.UUID) -> int:
    """How many transfers of the subject were recorded as allowed (or partly allowed)."""
    stmt = select(func.count()).where(
        Transfer.subject_id == subject_id, Transfer.decision != "refused"
    )
    return int(session.scalar(stmt) or 0)


class _Race:
    """A runtime with an operator and its template, and a witness in every withdrawal's own
    transaction counting the allowed transfers already committed for its subject."""

    def __init__(self, db_url: str) -> None:
        self.rt = build_runtime(make_settings(db_url))
        self.org_id, self.tpl_id = operator_with_template(self.rt)
        self.seen_in_withdrawal: dict[uuid.UUID, int] = {}
        self.errors: list[BaseException] = []
        self.totals = {"allowed": 0, "refused": 0}
        self._undo = lifecycle.on_withdrawal("person.", self._witness)

    def __enter__(self) -> _Race:
        return self

    def __exit__(self, *exc) -> None:
        self._undo()
        self.rt.dispose()

    def _witness(self, session, consent_id, subject_id, categories) -> None:
        self.seen_in_withdrawal[consent_id] = _allowed_transfers(session, subject_id)

    def consent(self) -> tuple[uuid.UUID, uuid.UUID]:
        return given_consent(self.rt, self.org_id, self.tpl_id)

    def thread(self, body, *args) -> threading.Thread:
        """A thread running ``body(*args)``; what it raises is kept for ``run`` to report."""

        def guarded() -> None:
            try:
                body(*args)
            except BaseException as exc:
                self.errors.append(exc)

        return threading.Thread(target=guarded)

    def withdraw(self, barrier: threading.Barrier, subject, consent_id) -> None:
        barrier.wait()
        with session_scope(self.rt.sessionmaker) as s:
            lifecycle.withdraw(s, consent_id, subject, now=utcnow())

    def run(self, threads: list[threading.Thread]) -> None:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not self.errors, self.errors

    def check(self, subject, consent_id) -> None:
        """No transfer allowed after the withdrawal committed: the allowed ones are exactly those
        the withdrawal saw."""
        with session_scope(self.rt.sessionmaker) as s:
            allowed = _allowed_transfers(s, subject)
            total = len(repo.transfers_of_subject(s, subject, 10_000))
        assert allowed == self.seen_in_withdrawal[consent_id], "a transfer won after withdrawal"
        self.totals["allowed"] += allowed
        self.totals["refused"] += total - allowed


ROUNDS = 25
TRANSFER_THREADS = 3
TRANSFERS_PER_THREAD = 8


def test_withdrawal_wins_every_race(db_url):
    with _Race(db_url) as race:

        def transfer(barrier: threading.Barrier, subject) -> None:
            barrier.wait()
            for _ in range(TRANSFERS_PER_THREAD):
                with session_scope(race.rt.sessionmaker) as s:
                    flows.gated_transfer(
                        s,
                        operator_id=race.org_id,
                        subject_id=subject,
                        purpose="attestation.online",
                        categories=["person.fullname"],
                        channel="check",
                        actor="test",
                        now=utcnow(),
                    )

        for _ in range(ROUNDS):
            subject, consent_id = race.consent()
            barrier = threading.Barrier(TRANSFER_THREADS + 1)
            threads = [race.thread(race.withdraw, barrier, subject, consent_id)]
            threads += [race.thread(transfer, barrier, subject) for _ in range(TRANSFER_THREADS)]
            race.run(threads)
            race.check(subject, consent_id)
    # the race really happened both ways across the rounds
    assert race.totals["allowed"] > 0 and race.totals["refused"] > 0, race.totals


BATCH_ROUNDS = 10
BATCH_SUBJECTS = 4
CALLERS = 4
PULLS_PER_CALLER = 12


def test_withdrawal_wins_against_batched_pulls(db_url):
    """The same invariant when pulls are group-committed by the ``PullBatcher``: several
    subjects share each batch transaction while their withdrawals race it."""
    from consent.batcher import PullBatcher
    from consent.flows import PullAsk

    with _Race(db_url) as race:
        batcher = PullBatcher(race.rt.sessionmaker, race.rt.settings, workers=2, max_batch=8)
        batcher.start()

        def pull(barrier: threading.Barrier, people, k: int) -> None:
            barrier.wait()
            futures = [
                batcher.submit(
                    PullAsk(
                        race.org_id,
                        people[(k + i) % len(people)][0],
                        "attestation.online",
                        ["person.fullname"],
                        "test",
                    )
                )
                for i in range(PULLS_PER_CALLER)
            ]
            for f in futures:
                f.result(timeout=60)

        try:
            for _ in range(BATCH_ROUNDS):
                people = [race.consent() for _ in range(BATCH_SUBJECTS)]
                barrier = threading.Barrier(CALLERS + len(people))
                threads = [race.thread(race.withdraw, barrier, *p) for p in people]
                threads += [race.thread(pull, barrier, people, k) for k in range(CALLERS)]
                race.run(threads)
                for subject, consent_id in people:
                    race.check(subject, consent_id)
        finally:
            batcher.stop()
    assert race.totals["allowed"] > 0 and race.totals["refused"] > 0, race.totals
    assert batcher.pulls == BATCH_ROUNDS * CALLERS * PULLS_PER_CALLER
    assert batcher.batches < batcher.pulls  # pulls really shared transactions


def test_feed_positions_follow_commit_order(pg_url):
    """A change that commits late never lands behind a poller's cursor.

    S2 withdraws consent A and stays open; S1 withdraws consent B of the same operator in a
    thread. An operator polls in between, then S2 commits. Polling on from the cursor must
    still deliver A's withdrawal (with a plain sequence, B's later position would already have
    moved the cursor past A's)."""
    rt = build_runtime(make_settings(pg_url))
    try:
        org_id, tpl_id = operator_with_template(rt)
        subj_a, consent_a = given_consent(rt, org_id, tpl_id)
        subj_b, consent_b = given_consent(rt, org_id, tpl_id)
        with session_scope(rt.sessionmaker) as s:
            start = max([e.pos for e in repo.feed(s, org_id, 0, 10_000)], default=0)

        s2 = rt.sessionmaker()
        lifecycle.withdraw(s2, consent_a, subj_a, now=utcnow())  # open, not committed
        done = threading.Event()

        def other():
            with session_scope(rt.sessionmaker) as s1:
                lifecycle.withdraw(s1, consent_b, subj_b, now=utcnow())
            done.set()

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(timeout=1.0)
        with session_scope(rt.sessionmaker) as s:
            first = repo.feed(s, org_id, start, 100)
        cursor = first[-1].pos if first else start
        s2.commit()
        s2.close()
        thread.join(timeout=30)
        assert done.is_set()
        with session_scope(rt.sessionmaker) as s:
            rest = repo.feed(s, org_id, cursor, 100)
        seen = {(e.consent_id, e.type) for e in [*first, *rest]}
        assert (consent_a, "withdrawn") in seen and (consent_b, "withdrawn") in seen
    finally:
        rt.dispose()
