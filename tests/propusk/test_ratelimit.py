"""Rate limits: shared by instances through the real Redis, degraded to in-process counts when
Redis is away (never an outage), GCRA arithmetic (bursts, refill, Retry-After)."""

from __future__ import annotations

import logging
import uuid

import pytest

from propusk.ratelimit import LocalCells, RateLimiter, Rule

REDIS_URL = "redis://127.0.0.1:6379/0"
CLOSED_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def _rule(limit: int = 3, window: float = 60) -> Rule:
    return Rule(f"test-{uuid.uuid4().hex[:8]}", limit, window)


def test_a_burst_up_to_the_limit_then_refusal_with_retry_after():
    limiter = RateLimiter(REDIS_URL)
    rule = _rule(3, 60)
    verdicts = [limiter.take(rule, "client-a") for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert [v.remaining for v in verdicts[:3]] == [2, 1, 0]
    # one event every 20 s refills: the next is let in within 20 s (whole seconds, never 0)
    assert 1 <= verdicts[3].retry_after <= 20
    assert limiter.shared


def test_keys_and_rules_count_apart():
    limiter = RateLimiter(REDIS_URL)
    rule, other = _rule(1), _rule(1)
    assert limiter.take(rule, "a").allowed
    assert not limiter.take(rule, "a").allowed
    assert limiter.take(rule, "b").allowed
    assert limiter.take(other, "a").allowed


def test_two_instances_count_together():
    """Two limiters stand for two service instances on one Redis: the limit is the sum."""
    first, second = RateLimiter(REDIS_URL), RateLimiter(REDIS_URL)
    rule = _rule(4)
    answers = [(first if i % 2 else second).take(rule, "ip-1").allowed for i in range(6)]
    assert answers == [True, True, True, True, False, False]


def test_peek_does_not_count():
    limiter = RateLimiter(REDIS_URL)
    rule = _rule(2)
    for _ in range(5):
        assert limiter.peek(rule, "k").allowed
    limiter.take(rule, "k")
    limiter.take(rule, "k")
    assert not limiter.peek(rule, "k").allowed


def test_reset_lifts_a_block():
    limiter = RateLimiter(REDIS_URL)
    rule = _rule(1)
    limiter.take(rule, "k")
    assert not limiter.take(rule, "k").allowed
    limiter.reset(rule, "k")
    assert limiter.take(rule, "k").allowed


def test_redis_away_degrades_to_local_limits_and_says_so(caplog):
    limiter = RateLimiter(CLOSED_URL, timeout=0.05)
    rule = _rule(2)
    with caplog.at_level(logging.WARNING, logger="propusk.ratelimit"):
        answers = [limiter.take(rule, "k").allowed for _ in range(3)]
    assert answers == [True, True, False]  # still limited, in this process
    assert not limiter.shared
    assert limiter.degraded_events == 1  # Redis is not asked again until retry_seconds pass
    assert [r.message for r in caplog.records if "degraded" in r.message]
    # the log names the failure's kind, never the URL (it may carry a password)
    assert all("127.0.0.1:1" not in r.getMessage() for r in caplog.records)


def test_no_redis_configured_counts_in_process():
    limiter = RateLimiter(None)
    rule = _rule(1)
    assert limiter.take(rule, "k").allowed
    assert not limiter.take(rule, "k").allowed
    assert not limiter.shared and limiter.degraded_events == 0


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_gcra_refills_one_event_per_interval():
    clock = _Clock()
    cells = LocalCells(clock)
    rule = Rule("r", 3, 30)  # one every 10 s
    assert all(cells.apply(rule, "k", True).allowed for _ in range(3))
    refused = cells.apply(rule, "k", True)
    assert not refused.allowed and refused.retry_after == 10
    clock.now += 9.9
    assert not cells.apply(rule, "k", True).allowed
    clock.now += 0.1
    assert cells.apply(rule, "k", True).allowed
    assert not cells.apply(rule, "k", True).allowed
    clock.now += 30  # idle for a whole window: the full burst again
    assert [cells.apply(rule, "k", True).allowed for _ in range(4)] == [True, True, True, False]


def test_invented_keys_cannot_grow_memory_without_bound():
    clock = _Clock()
    cells = LocalCells(clock, max_keys=100)
    rule = Rule("r", 1, 3600)
    for i in range(1000):
        cells.apply(rule, f"k{i}", True)
    assert len(cells._tats) <= 100


@pytest.mark.parametrize("limit", [1, 5])
def test_refusals_never_let_more_than_the_limit_through_at_once(limit):
    limiter = RateLimiter(REDIS_URL)
    rule = _rule(limit, 3600)
    allowed = sum(limiter.take(rule, "burst").allowed for _ in range(limit * 10))
    assert allowed == limit
