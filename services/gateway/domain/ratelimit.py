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
