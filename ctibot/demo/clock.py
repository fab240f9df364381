"""The demo PBX's simulated clock: real time scaled by ``time_scale``."""

from __future__ import annotations

import asyncio
import time


class SimClock:
    """Simulated seconds run ``1 / scale`` times faster than real ones.

    Everything time-based in the demo (ring times, talk times, Durations in
    events) goes through this clock, so a test at ``scale=0.05`` sees a 1 s ring
    last 50 ms while the events still report whole simulated seconds.
    """

    def __init__(self, scale: float = 1.0) -> None:
        if scale <= 0:
            raise ValueError("time_scale must be > 0")
        self.scale = scale
        self._t0 = time.monotonic()
        self._wall0 = time.time()

    def now(self) -> float:
        """Simulated seconds since the PBX started."""
        return (time.monotonic() - self._t0) / self.scale

    def wall(self) -> float:
        """Simulated epoch time (for Uniqueids, timestamps, LoginTime)."""
        return self._wall0 + self.now()

    async def sleep(self, seconds: float) -> None:
        """Sleep for ``seconds`` simulated seconds."""
        await asyncio.sleep(max(0.0, seconds) * self.scale)


def hms(seconds: float) -> str:
    """Asterisk's ``HH:MM:SS`` duration (CoreShowChannel Duration)."""
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
