"""Rate limits shared by every instance (Redis), with an in-process fallback.

A limit is a *rule* (``limit`` events per ``window`` seconds) applied to a *key* (a client id,
an IP address, a person). The algorithm is GCRA, the generic cell rate algorithm (ATM Forum
TM 4.1; what redis-cell and throttled implement): one stored number per key, the *theoretical
arrival time* (TAT) of the next event. An event is let in while ``TAT - now <= window - T``
(``T = window / limit`` the emission interval): ``limit`` events may come at once, then one
every ``T``. Unlike fixed windows it has no boundary where twice the limit gets through, and the
refusal knows exactly when the next event would be let in (``Retry-After``).

Why Redis: several instances behind a load balancer must count together, or an attacker gets
``limit × instances``. The script runs atomically in Redis with Redis's own clock (``TIME``), so
instances with skewed clocks agree.

Why a fallback: Redis going away must never become an outage of logins and tokens. The limiter
then counts in-process (per instance: weaker, still bounded), logs the degradation once per
period and counts it (``degraded_events``), and tries Redis again after ``retry_seconds``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import math
import threading
import time
from dataclasses import dataclass

import redis

from propusk.observability import RATE_DEGRADED, RATE_LIMITED

log = logging.getLogger("propusk.ratelimit")

# KEYS[1]: the key; ARGV: emission interval (ms), window (ms), count (1 = take, 0 = peek).
# Returns {allowed (0/1), retry_after_ms, remaining}.
_GCRA = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - window
if now < allow_at then
  return {0, allow_at - now, 0}
end
if tonumber(ARGV[3]) == 1 then
  redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
  return {1, 0, math.floor((window - (new_tat - now)) / interval)}
end
return {1, 0, math.floor((window - (tat - now)) / interval) - 1}
"""


@dataclass(frozen=True)
class Rule:
    """``limit`` events per ``window`` seconds, under a stable ``name`` (part of the key)."""

    name: str
    limit: int
    window: float

    @property
    def interval_ms(self) -> int:
        return max(1, math.ceil(self.window * 1000 / self.limit))

    @property
    def window_ms(self) -> int:
        return max(1, math.ceil(self.window * 1000))


def peer_key(host: str | None) -> str | None:
    """The key a per-IP limit counts a peer under: an IPv4 address itself, an IPv6 address's
    /64 — a host is handed a whole /64, and keyed by the full address a peer would send each
    attempt from a new one and never wait (an IPv4-mapped address is its IPv4 address).
    Anything that is not an address (a test client's name) is kept as it is."""
    if not host or ":" not in host:
        return host
    try:
        address = ipaddress.IPv6Address(host)
    except ValueError:
        return host
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((address, 64), strict=False))


def parse_rule(name: str, text: str) -> Rule:
    """``"30/60"`` → 30 events per 60 seconds (the settings' notation)."""
    events, _, seconds = text.partition("/")
    try:
        rule = Rule(name, int(events), float(seconds))
    except ValueError:
        raise ValueError(f"rate limit {name}: {text!r} is not <events>/<seconds>") from None
    if rule.limit < 1 or rule.window <= 0:
        raise ValueError(f"rate limit {name}: {text!r} must allow at least one event")
    return rule


@dataclass(frozen=True)
class Verdict:
    """Whether the event is let in; if not, whole seconds until it would be (``Retry-After``)."""

    allowed: bool
    retry_after: int
    remaining: int


def _verdict(allowed: bool, retry_after_ms: float, remaining: int) -> Verdict:
    retry = max(1, math.ceil(retry_after_ms / 1000)) if not allowed else 0
    return Verdict(allowed, retry, max(0, remaining))


class LocalCells:
    """The same GCRA in this process (the fallback, and the limiter when no Redis is set)."""

    def __init__(self, clock=time.monotonic, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._tats: dict[str, float] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def apply(self, rule: Rule, key: str, take: bool) -> Verdict:
        now = self._clock() * 1000
        interval, window = rule.interval_ms, rule.window_ms
        with self._lock:
            tat = max(self._tats.get(key, now), now)
            new_tat = tat + interval
            allow_at = new_tat - window
            if now < allow_at:
                return _verdict(False, allow_at - now, 0)
            if not take:
                return _verdict(True, 0, math.floor((window - (tat - now)) / interval) - 1)
            if len(self._tats) >= self._max_keys:
                self._forget_idle(now)
            self._tats[key] = new_tat
            return _verdict(True, 0, math.floor((window - (new_tat - now)) / interval))

    def _forget_idle(self, now: float) -> None:
        """Keys whose TAT has passed hold no state (a fresh key behaves the same): dropping
        them bounds the memory an attacker can make us spend by inventing keys."""
        for key in [k for k, tat in self._tats.items() if tat <= now]:
            del self._tats[key]
        if len(self._tats) >= self._max_keys:  # all busy: forget the oldest half
            for key in sorted(self._tats, key=self._tats.__getitem__)[: self._max_keys // 2]:
                del self._tats[key]


class RateLimiter:
    """``take(rule, key)`` counts an event and says whether it is let in; ``peek`` only asks
    (used for limits on *failures*: ask before the work, take when it failed)."""

    def __init__(
        self,
        redis_url: str | None,
        *,
        prefix: str = "propusk:rl:",
        timeout: float = 0.25,
        retry_seconds: float = 5.0,
    ) -> None:
        self.prefix = prefix
        self.retry_seconds = retry_seconds
        self.local = LocalCells()
        self.degraded_events = 0
        self._down_until = 0.0
        self._warned_at = -math.inf
        self._redis = None
        self._script = None
        if redis_url:
            self._redis = redis.Redis.from_url(
                redis_url, socket_timeout=timeout, socket_connect_timeout=timeout
            )
            self._script = self._redis.register_script(_GCRA)

    @property
    def shared(self) -> bool:
        """Whether the counts are, right now, shared by every instance (Redis answers)."""
        return self._redis is not None and time.monotonic() >= self._down_until

    def take(self, rule: Rule, key: str) -> Verdict:
        verdict = self._apply(rule, key, take=True)
        if not verdict.allowed:
            RATE_LIMITED.labels(rule.name).inc()
        return verdict

    def peek(self, rule: Rule, key: str) -> Verdict:
        return self._apply(rule, key, take=False)

    def reset(self, rule: Rule, key: str) -> None:
        """Forget a key (tests; an administrator lifting a block)."""
        self.local._tats.pop(self._key(rule, key), None)
        if self._redis is not None:
            with contextlib.suppress(redis.RedisError):
                self._redis.delete(self._key(rule, key))

    def _key(self, rule: Rule, key: str) -> str:
        return f"{self.prefix}{rule.name}:{key}"

    def _apply(self, rule: Rule, key: str, take: bool) -> Verdict:
        full = self._key(rule, key)
        if self.shared:
            try:
                allowed, retry_ms, remaining = self._script(
                    keys=[full], args=[rule.interval_ms, rule.window_ms, int(take)]
                )
                return _verdict(bool(allowed), retry_ms, int(remaining))
            except redis.RedisError as exc:
                self._degrade(exc)
        return self.local.apply(rule, full, take)

    def _degrade(self, exc: Exception) -> None:
        now = time.monotonic()
        self._down_until = now + self.retry_seconds
        self.degraded_events += 1
        RATE_DEGRADED.inc()
        if now - self._warned_at >= 60:
            self._warned_at = now
            log.warning(
                "rate limits degraded to in-process counting: Redis unavailable (%s)",
                type(exc).__name__,
            )
