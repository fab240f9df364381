"""Time for the PBX state: the replay clock, and the times Asterisk writes into events.

Live, the state reads the wall clock when an event arrives. A replayed capture
carries no arrival times, so a :class:`ReplayClock` advances from the times
embedded in events: the epoch seconds that start every ``Uniqueid``, CDR
start/answer/end times, ``EventTV`` and ``Timestamp`` when present.
"""

from __future__ import annotations

from datetime import UTC, datetime

# Plausible epoch seconds (2001 .. 2096): anything else in a Uniqueid is not a time.
_MIN_EPOCH = 1.0e9
_MAX_EPOCH = 4.0e9
_QUARTER_HOUR = 900


class ReplayClock:
    """A clock that only moves forward, to the latest time seen in the events."""

    __slots__ = ("now",)

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def observe(self, when: float | None) -> None:
        if when is not None and when > self.now:
            self.now = when


def iso(when: float | None) -> str | None:
    """ISO-8601 UTC with seconds, as the snapshot shows times."""
    if when is None:
        return None
    return datetime.fromtimestamp(when, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def uniqueid_epoch(uniqueid: str) -> float | None:
    """``1795638118.0`` -> 1795638118.0 (the second the channel was created)."""
    head = uniqueid.partition(".")[0]
    if not (head.isascii() and head.isdigit()) or len(head) > 11:
        return None
    value = float(head)
    return value if _MIN_EPOCH < value < _MAX_EPOCH else None


def parse_number_time(text: str) -> float | None:
    """``Timestamp: 1795638118.123456`` -> float, or None when not a plausible epoch."""
    try:
        value = float(text)
    except (ValueError, OverflowError):
        return None
    return value if _MIN_EPOCH < value < _MAX_EPOCH else None


def parse_event_tv(text: str) -> float | None:
    """``EventTV: 2026-11-25T20:21:58.389+0000`` -> epoch seconds."""
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
    except (ValueError, OverflowError):
        return None


def parse_cdr_time(text: str) -> float | None:
    """A CDR time ``2026-11-25 20:22:26`` read as if it were UTC (see :class:`CdrTimes`)."""
    if len(text) != 19:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


class CdrTimes:
    """Reads CDR times, which Asterisk writes in the PBX's local time without a zone.

    The offset to UTC is learnt from a CDR's own ``UniqueID`` (epoch of the
    channel's creation, which is the CDR's start), rounded to a quarter hour.
    """

    __slots__ = ("offset",)

    def __init__(self) -> None:
        self.offset: float | None = None

    def learn(self, start_text: str, uniqueid: str) -> None:
        start = parse_cdr_time(start_text)
        created = uniqueid_epoch(uniqueid)
        if start is None or created is None:
            return
        self.offset = round((start - created) / _QUARTER_HOUR) * _QUARTER_HOUR

    def read(self, text: str) -> float | None:
        value = parse_cdr_time(text)
        if value is None or self.offset is None:
            return None
        return value - self.offset
