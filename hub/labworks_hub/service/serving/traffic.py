"""What each served version answered: request and error counts and latency, kept in memory by
the gateway, read by the deployment pages and by the canary rule, which rolls a canary back (or
promotes it) by its error rate and latency against the stable version's."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

WINDOW = 60.0  # seconds of requests the live figures cover


@dataclass
class Traffic:
    """Requests of one version since it was last reset: totals, and the recent ones."""

    requests: int = 0
    errors: int = 0
    recent: deque = field(default_factory=lambda: deque(maxlen=10_000))  # (when, seconds, ok)

    def add(self, seconds: float, ok: bool) -> None:
        self.requests += 1
        self.errors += not ok
        self.recent.append((time.monotonic(), seconds, ok))

    def figures(self) -> dict[str, Any]:
        """Totals; requests per second, error rate and p50/p99 latency (ms) of the last
        WINDOW seconds."""
        since = time.monotonic() - WINDOW
        recent = [(s, ok) for when, s, ok in self.recent if when >= since]
        latencies = sorted(s for s, _ in recent)

        def quantile(q: float) -> float | None:
            if not latencies:
                return None
            return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 2)

        errors = sum(not ok for _, ok in recent)
        return {
            "requests": self.requests, "errors": self.errors,
            "rate_per_second": round(len(recent) / WINDOW, 3),
            "error_rate": round(errors / len(recent), 4) if recent else None,
            "p50_ms": quantile(0.5), "p99_ms": quantile(0.99),
        }  # fmt: skip


@dataclass(frozen=True)
class CanaryRule:
    """When a canary is judged, and how (ServingService's `canary_*` settings)."""

    min_requests: int = 20  # canary answers before it is judged at all
    max_error_margin: float = 0.05  # its error rate may exceed the stable one's by this much
    max_latency_ratio: float = 2.0  # its median latency may be this many times the stable one's
    promote_after: int = 0  # healthy answers after which it is promoted; 0: never by itself

    def judge(self, stable: Traffic, canary: Traffic) -> tuple[str, str] | None:
        """("rollback" | "promote", why) once the canary has answered enough; else None."""
        if canary.requests < self.min_requests:
            return None
        rate = canary.errors / canary.requests
        base = stable.errors / stable.requests if stable.requests else 0.0
        if rate > base + self.max_error_margin:
            return "rollback", (
                f"canary error rate {rate:.1%} over {canary.requests} requests against the"
                f" stable version's {base:.1%} (allowed: +{self.max_error_margin:.0%})"
            )
        ours, theirs = _median(canary), _median(stable)
        if ours is not None and theirs and ours > theirs * self.max_latency_ratio:
            return "rollback", (
                f"canary median latency {ours * 1000:.1f} ms against the stable version's"
                f" {theirs * 1000:.1f} ms (allowed: x{self.max_latency_ratio:g})"
            )
        if self.promote_after and canary.requests >= self.promote_after:
            return "promote", (
                f"{canary.requests} canary requests within the error and latency limits"
            )
        return None


def _median(traffic: Traffic) -> float | None:
    latencies = sorted(s for _, s, ok in traffic.recent if ok)
    return latencies[len(latencies) // 2] if latencies else None
