"""A ctibot AMI client wired to a demo PBX, for tests: its state and every event it published."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from ctibot.bus import EventBus
from ctibot.demo.config import office_pbx
from ctibot.demo.server import DemoPbx
from ctibot.pbx.ami import AmiClient
from ctibot.pbx.state import PbxState

SCALE = 0.05


async def until(predicate: Callable[[], Any], timeout: float = 10.0) -> None:
    """Wait (bounded) until ``predicate()`` holds.

    The bound is generous on purpose (a loaded CI machine): the wait returns as
    soon as the predicate holds. Wait on a fact that stays true once reached, not
    on a state that may come and go between two polls.
    """
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)  # one simulated second lasts 50 ms


class Harness:
    """A client, its state and every domain event it published."""

    def __init__(self, pbx: DemoPbx, **overrides: Any) -> None:
        settings: dict[str, Any] = dict(
            connect_timeout=1.0,
            ping_interval=0.2,
            ping_timeout=0.3,
            reconnect_min=0.05,
            reconnect_max=0.3,
            astdb_poll=30.0,
        )
        settings.update(overrides)
        self.config = office_pbx(pbx.office, port=settings.pop("port", pbx.port), **settings)
        self.state = PbxState(pbx.office.layout())
        self.bus = EventBus()
        self.events: list[Any] = []
        self.bus.subscribe(self.events.append)
        self.client = AmiClient(self.config, self.state, self.bus, jitter=lambda: 0.5)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    async def until(self, predicate: Callable[[], Any], timeout: float = 10.0) -> None:
        await until(predicate, timeout)


@pytest.fixture
async def pbx() -> AsyncIterator[DemoPbx]:
    async with DemoPbx(time_scale=SCALE) as pbx:
        yield pbx


@pytest.fixture
async def ctibot(pbx: DemoPbx) -> AsyncIterator[Harness]:
    harness = Harness(pbx)
    harness.client.start()
    await harness.client.wait_ready(5)
    yield harness
    await harness.client.stop()


async def fresh_view(pbx: DemoPbx) -> dict[str, Any]:
    """What a newly connected ctibot sees: the PBX's truth to compare with."""
    other = Harness(pbx)
    other.client.start()
    try:
        await other.client.wait_ready(5)
        return essentials(other.state.snapshot())
    finally:
        await other.client.stop()


def essentials(snapshot: dict[str, Any]) -> dict[str, Any]:
    calls = sorted((c["from"], c["to"], c["direction"], c["state"]) for c in snapshot["calls"])
    return {
        "calls": calls,
        "extensions": {
            k: (v["status"], v["dnd"], v["forward"]) for k, v in snapshot["extensions"].items()
        },
        "parkings": sorted(snapshot["parkings"]),
        "mailboxes": snapshot["mailboxes"],
        "queues": {q: sorted(v["members"]) for q, v in snapshot["queues"].items()},
    }


#: Simulated seconds that stand for "for ever" in a test (a day).
FOREVER = 86_400.0


def ring_forever(pbx: DemoPbx, *extensions: str) -> None:
    """Make ``extensions`` ring until hung up (or answered with ``pbx.answer``).

    ``answer_after = None`` alone is not enough: the dial still gives up after the
    office's ring timeout (15 simulated seconds, under a second of real time), so
    "ringing" would be a state that ends by itself while a test is still doing
    network round trips.
    """
    for ext in extensions:
        pbx.phone(ext).answer_after = None
    pbx.office.ring_timeout = FOREVER


def ringing_at(state: PbxState, ext: str) -> bool:
    return any(c["state"] == "ringing" and c["to"] == ext for c in state.snapshot()["calls"])
