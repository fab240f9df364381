"""The websocket hub at ``/ws``: topics, a snapshot on subscribe, coalesced, bounded fan-out."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("ctibot.http.hub")

#: Messages waiting for one client before it counts as too slow and is dropped.
MAX_PENDING = 256
_CLOSE = object()


class Coalesced:
    """A change handler for a live topic: the first change of a burst schedules one
    ``flush`` ``delay`` seconds later (a coroutine function runs as a task); the rest
    of the burst rides with it."""

    def __init__(self, delay: float, flush: Callable[[], Any]) -> None:
        self.delay, self.flush = delay, flush
        self._pending: asyncio.TimerHandle | None = None

    def __call__(self, _event: Any = None) -> None:
        if self._pending is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a change seen at start-up): the next snapshot carries it
        self._pending = loop.call_later(self.delay, self._run, loop)

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        self._pending = None
        result = self.flush()
        if inspect.isawaitable(result):
            loop.create_task(result)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Topic:
    """A live topic: who may subscribe and what a new subscriber gets first."""

    name: str
    snapshot: Callable[[Any], Any] | None
    permission: str | None
    plugin: str


class Client:
    """One browser's socket: its user, its topics and what waits to be sent to it."""

    def __init__(self, user: Any, session: str | None = None) -> None:
        self.user = user
        self.session = session  # the browser session's id: its logout closes the socket
        self.topics: set[str] = set()
        self.pending: dict[tuple[str, Any], Any] = {}
        self.wake = asyncio.Event()
        self.dropped = False
        self.sender: asyncio.Task[None] | None = None
        self._serial = 0

    def offer(self, topic: str, data: Any, key: Any = None) -> bool:
        """Queue a message (never blocks); with ``key``, a newer one replaces a waiting one.

        False when the client is too far behind: the caller drops it.
        """
        if key is None:
            self._serial += 1
            key = ("#", self._serial)
        self.pending.pop((topic, key), None)  # a replaced message moves to the end
        self.pending[(topic, key)] = data
        self.wake.set()
        return len(self.pending) <= MAX_PENDING

    def take(self) -> list[dict[str, Any]]:
        items = [{"topic": topic, "data": data} for (topic, _), data in self.pending.items()]
        self.pending.clear()
        self.wake.clear()
        return items


class Hub:
    """Every connected browser; ``publish`` is synchronous and never waits for a socket."""

    def __init__(self, may: Callable[[Any, str | None], bool]) -> None:
        self.topics: dict[str, Topic] = {}
        self.clients: set[Client] = set()
        self._may = may

    def add_topic(self, topic: Topic) -> None:
        if topic.name in self.topics:
            raise ValueError(f"live topic {topic.name!r} already belongs to {topic.plugin}")
        self.topics[topic.name] = topic

    def publish(
        self, topic: str, data: Any, users: Iterable[Any] | None = None, *, key: Any = None
    ) -> int:
        """Send ``data`` to the subscribers of ``topic`` (only to ``users`` when given).

        Returns how many clients got it; a client too far behind is dropped (it reconnects
        and gets fresh snapshots).
        """
        names = None if users is None else {getattr(u, "name", u) for u in users}
        sent = 0
        for client in list(self.clients):
            if topic not in client.topics or client.dropped:
                continue
            if names is not None and client.user.name not in names:
                continue
            if not client.offer(topic, data, key):
                self.drop(client)
                continue
            sent += 1
        return sent

    def watching(self, topic: str) -> set[str]:
        """The names of the users with a live socket on ``topic`` now (only they need data)."""
        return {c.user.name for c in list(self.clients) if topic in c.topics and not c.dropped}

    def connected(self, user: Any) -> bool:
        """Whether the user has a panel open: a socket of theirs is connected now."""
        name = getattr(user, "name", user)
        return any(c.user.name == name and not c.dropped for c in list(self.clients))

    def drop(self, client: Client) -> None:
        if not client.dropped:
            client.dropped = True
            client.pending.clear()
            client.wake.set()
            self.clients.discard(client)
            # Its sender may be stuck in a send to a socket that does not read: end it.
            if client.sender is not None:
                client.sender.cancel()
            log.info("websocket of %s dropped: too slow", client.user.name)

    async def snapshot(self, client: Client, name: str) -> None:
        topic = self.topics.get(name)
        if topic is None or not self._may(client.user, topic.permission):
            client.offer("error", {"topic": name, "error": "forbidden"})
            return
        client.topics.add(name)
        if topic.snapshot is None:
            return
        try:
            data = topic.snapshot(client.user)
            if inspect.isawaitable(data):
                data = await data
        except Exception:
            log.exception("live topic %s: the snapshot failed", name)
            return
        client.offer(name, data, key="snapshot")

    async def serve(self, websocket: Any, user: Any, session: str | None = None) -> None:
        """Run one socket until it closes (or the hub closes, or it falls behind)."""
        await websocket.accept()
        client = Client(user, session)
        self.clients.add(client)
        sender = client.sender = asyncio.create_task(self._send(websocket, client))
        receive: asyncio.Task[Any] | None = None
        try:
            while not sender.done():
                receive = asyncio.create_task(websocket.receive())
                done, _ = await asyncio.wait(
                    {receive, sender}, return_when=asyncio.FIRST_COMPLETED
                )
                if receive not in done:
                    break
                await self._command(client, receive.result())
                receive = None
        finally:
            self.clients.discard(client)
            for task in (receive, sender):
                if task is not None and not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    async def _command(self, client: Client, text: Any) -> None:
        try:
            message = json.loads(text)
        except (TypeError, ValueError):
            return
        if not isinstance(message, dict):
            return
        for name in message.get("subscribe") or ():
            if isinstance(name, str) and len(client.topics) < 64:
                await self.snapshot(client, name)
        for name in message.get("unsubscribe") or ():
            if isinstance(name, str):
                client.topics.discard(name)

    async def _send(self, websocket: Any, client: Client) -> None:
        while True:
            await client.wake.wait()
            if client.dropped:
                await websocket.close(1013)
                return
            if client.pending.get(("_", "close")) is _CLOSE:
                await websocket.close(1001)
                return
            items = client.take()
            if items:
                frame = items[0] if len(items) == 1 else items
                await websocket.send(json.dumps(frame, default=str, separators=(",", ":")))

    def close_all(self, session: str | None = None) -> None:
        """Ask every socket (of that session only, when given) to close with 1001."""
        for client in self.clients:
            if session is not None and client.session != session:
                continue
            client.pending.clear()
            client.pending[("_", "close")] = _CLOSE
            client.wake.set()
