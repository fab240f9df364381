"""Per-JID rate limiting of commands: a sliding window, one "slow down" notice per window."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import Enum

MAX_TRACKED = 10_000  # senders remembered at once; idle ones are forgotten first


class Verdict(Enum):
    ALLOW = "allow"
    WARN = "warn"  # refused: tell the sender to slow down (once per window)
    DROP = "drop"  # refused silently: they were already told


class RateLimiter:
    """At most ``limit`` commands per ``window`` seconds per sender."""

    def __init__(
        self, limit: int = 10, window: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be at least 1 and window positive")
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._warned: dict[str, float] = {}

    def check(self, jid: str) -> Verdict:
        """Count one command from ``jid`` and say what to do with it."""
        now = self.clock()
        hits = self._hits.get(jid)
        if hits is None:
            if len(self._hits) >= MAX_TRACKED:
                self._forget(now)
            hits = self._hits[jid] = deque()
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        if len(hits) < self.limit:
            hits.append(now)
            return Verdict.ALLOW
        warned = self._warned.get(jid)
        if warned is not None and now - warned < self.window:
            return Verdict.DROP
        self._warned[jid] = now
        return Verdict.WARN

    def allow(self, jid: str) -> bool:
        """True when ``jid`` may run a command now (counts it)."""
        return self.check(jid) is Verdict.ALLOW

    def _forget(self, now: float) -> None:
        for jid in [j for j, h in self._hits.items() if not h or now - h[-1] >= self.window]:
            del self._hits[jid]
            self._warned.pop(jid, None)
        while len(self._hits) >= MAX_TRACKED:  # everyone is busy: drop the oldest
            jid = next(iter(self._hits))
            del self._hits[jid]
            self._warned.pop(jid, None)
