"""In-process event bus: domain events from the PBX state to XMPP, web and plugins."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[Any], "Awaitable[None] | None"]


class EventBus:
    """Delivers each published event to the handlers subscribed to its type.

    Handlers are plain functions (called at once) or coroutine functions (run
    as tasks). A handler that raises is logged and never stops delivery to the
    others, nor the AMI ingest that published the event.
    """

    def __init__(self) -> None:
        self._handlers: dict[type, list[Handler]] = {}
        self._all: list[Handler] = []
        self._cache: dict[type, tuple[Handler, ...]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, handler: Handler, *kinds: type) -> Callable[[], None]:
        """Call ``handler`` for events of these types (all events when none given).

        Returns a function that unsubscribes it.
        """
        if kinds:
            for kind in kinds:
                self._handlers.setdefault(kind, []).append(handler)
        else:
            self._all.append(handler)
        self._cache.clear()

        def unsubscribe() -> None:
            for kind in kinds:
                self._handlers.get(kind, []).remove(handler)
            if not kinds:
                self._all.remove(handler)
            self._cache.clear()

        return unsubscribe

    def _targets(self, kind: type) -> tuple[Handler, ...]:
        targets = self._cache.get(kind)
        if targets is None:
            found: list[Handler] = []
            for base in kind.__mro__:
                found.extend(self._handlers.get(base, ()))
            found.extend(self._all)
            targets = self._cache[kind] = tuple(found)
        return targets

    def publish(self, event: Any) -> None:
        """Deliver one event."""
        for handler in self._targets(type(event)):
            try:
                result = handler(event)
            except Exception:
                log.exception("event handler %r failed on %s", handler, type(event).__name__)
                continue
            if result is not None and asyncio.iscoroutine(result):
                task = asyncio.get_running_loop().create_task(result)
                self._tasks.add(task)
                task.add_done_callback(self._done)

    def publish_all(self, events: list[Any]) -> None:
        """Deliver events in order."""
        for event in events:
            self.publish(event)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("event handler task failed", exc_info=task.exception())
