"""The event bus: delivery by type, async handlers, a failing handler harms nobody."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ctibot.bus import EventBus


async def settled(predicate, timeout: float = 5.0) -> None:
    """Wait (bounded) for the async handler's task to have run."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.001)


@dataclass
class Base:
    n: int


@dataclass
class Child(Base):
    pass


async def test_handlers_get_their_types_and_base_types() -> None:
    bus, seen = EventBus(), []
    bus.subscribe(lambda e: seen.append(("base", e.n)), Base)
    bus.subscribe(lambda e: seen.append(("child", e.n)), Child)
    bus.subscribe(lambda e: seen.append(("all", e.n)))
    bus.publish(Child(1))
    bus.publish(Base(2))
    # most specific type first, then base types, then catch-all handlers
    assert seen == [("child", 1), ("base", 1), ("all", 1), ("base", 2), ("all", 2)]


async def test_a_failing_handler_does_not_stop_the_others() -> None:
    bus, seen = EventBus(), []

    def broken(event: Base) -> None:
        raise RuntimeError("boom")

    async def slow(event: Base) -> None:
        await asyncio.sleep(0)
        seen.append(event.n)

    bus.subscribe(broken, Base)
    bus.subscribe(slow, Base)
    unsubscribe = bus.subscribe(lambda e: seen.append(-e.n), Base)
    bus.publish(Base(7))
    await settled(lambda: 7 in seen)
    assert sorted(seen) == [-7, 7]
    unsubscribe()
    bus.publish(Base(8))
    await settled(lambda: 8 in seen)
    assert sorted(seen) == [-7, 7, 8]
