"""Per-client rate limits: a token bucket per client (refilled at `rate` a second, holding at most
`burst`). Pure: the caller passes the clock, so the rules are tested without sleeping."""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, rate: float, burst: int, *, max_clients: int = 100_000):
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        self._buckets: dict[str, Bucket] = {}

    def take(self, key: str, now: float) -> float:
        """0 when the request may go ahead; otherwise the seconds to wait before retrying."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_clients:
                self._evict_full(now)
            bucket = self._buckets[key] = Bucket(tokens=float(self.burst), updated=now)
        else:
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    def knows(self, key: str) -> bool:
        return key in self._buckets

    def set(self, key: str, tokens: float, now: float) -> None:
        """Start or correct a bucket from what a shared store says it holds (below zero: in debt)."""
        if key not in self._buckets and len(self._buckets) >= self.max_clients:
            self._evict_full(now)
        self._buckets[key] = Bucket(tokens=min(float(self.burst), tokens), updated=now)

    def refund(self, key: str) -> None:
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.tokens = min(float(self.burst), bucket.tokens + 1.0)

    def peek(self, key: str, now: float) -> float:
        """What take() would answer, without taking."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return 0.0
        tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def _evict_full(self, now: float) -> None:
        # a bucket that has refilled completely carries no state worth keeping
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.updated) * self.rate >= self.burst]
        for key in full or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[key]


class SharedBuckets:
    """Token buckets that several gateway replicas spend from together, through a shared store (the gateway's
    database), without a round trip per request. Each replica admits against its own copy of every bucket
    (a RateLimiter) and reports what it admitted every sync period; the store applies all reports atomically
    and answers each bucket's level, which replaces the copy (less what was admitted here meanwhile).

    Exactness against round trips: a request costs no round trip; a replica costs one statement per sync
    period (for all the buckets it used lately), plus one the first time it sees a client. Each replica's copy
    is at most about two sync periods behind the others' admissions, so when a bucket runs dry a client can
    get through up to what the other replicas admitted for it in that time (at 0.1 s and a client flooding
    two replicas at 500/s each: about 100 requests, once); that excess is charged to the shared bucket as
    debt, refused everywhere until it refills, so over any longer window the limit holds."""

    RECENT_SECONDS = 5.0  # buckets used this recently are re-read at every report, spent from or not

    def __init__(self, rate: float, burst: int, *, max_clients: int = 100_000):
        self.limiter = RateLimiter(rate, burst, max_clients=max_clients)
        self._spent: dict[str, int] = {}  # admitted here since the last report
        self._used: dict[str, float] = {}  # when each bucket was last asked for here

    @property
    def rate(self) -> float:
        return self.limiter.rate

    @property
    def burst(self) -> int:
        return self.limiter.burst

    def knows(self, key: str) -> bool:
        return self.limiter.knows(key)

    def take(self, key: str, now: float) -> float:
        self._used[key] = now
        wait = self.limiter.take(key, now)
        if wait == 0:
            self._spent[key] = self._spent.get(key, 0) + 1
        return wait

    def report(self, now: float) -> dict[str, int]:
        """What was admitted since the last report (forgotten here: it is now the store's), and a zero for
        every other bucket used lately, so that its copy learns what the other replicas spent."""
        spent, self._spent = self._spent, {}
        horizon = now - self.RECENT_SECONDS
        self._used = {k: t for k, t in self._used.items() if t >= horizon}
        return {**dict.fromkeys(self._used, 0), **spent}

    def restore(self, spent: dict[str, int]) -> None:
        """A report the store did not take: it goes with the next one."""
        for key, n in spent.items():
            self._spent[key] = self._spent.get(key, 0) + n

    def learn(self, levels: dict[str, float], now: float) -> None:
        """The store's answer: each bucket's level after every report so far, including this replica's last."""
        for key, tokens in levels.items():
            self.limiter.set(key, tokens - self._spent.get(key, 0), now)


def retry_after_header(wait_seconds: float) -> str:
    """Retry-After is whole seconds (RFC 9110); never 0 for a refused request."""
    return str(max(1, math.ceil(wait_seconds)))


class FailureBudget:
    """Failed client authentications allowed per client id and per IP: `burst` at once, refilled at `rate` a
    second. It is checked BEFORE the slow hash, so once a caller is over budget a wrong secret costs nothing."""

    def __init__(self, *, per_client_burst: int = 20, per_client_rate: float = 1 / 3,
                 per_ip_burst: int = 10, per_ip_rate: float = 1 / 6):
        self.clients = RateLimiter(per_client_rate, per_client_burst)
        self.ips = RateLimiter(per_ip_rate, per_ip_burst)

    def wait(self, client_id: str, ip: str, now: float) -> float:
        """0 when another attempt may be checked; otherwise the seconds until one may."""
        return max(self.clients.peek(client_id, now), self.ips.peek(ip, now))

    def take(self, client_id: str, ip: str, now: float) -> float:
        """Spend one attempt from both budgets BEFORE checking (so that concurrent attempts cannot all slip
        under the budget); 0 when the attempt may be checked, otherwise the seconds to wait (nothing spent)."""
        wait = self.wait(client_id, ip, now)
        if wait == 0:
            self.clients.take(client_id, now)
            self.ips.take(ip, now)
        return wait

    def refund(self, client_id: str, ip: str) -> None:
        """The attempt succeeded: it was not a failure."""
        self.clients.refund(client_id)
        self.ips.refund(ip)
