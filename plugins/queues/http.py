"""The queues page (F33): my queues' agents, waiting callers and counts; login, pause — live."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ctibot.plugin import (
    Coalesced,
    PbxResynced,
    QueueCallerAbandoned,
    QueueCallerJoined,
    QueueCallerLeft,
    QueueMemberChanged,
)

from .services import QueuesService

PAGE = "queues/index.html"
MENU = {"en": "Queues", "it": "Code"}
#: Changes within this time reach the browsers as one update (a busy queue stays cheap).
COALESCE = 0.2


class PauseIn(BaseModel):
    """A pause: why (optional; shown to supervisors and kept in the queue log)."""

    reason: str = Field("", max_length=80, description="e.g. lunch")


class QueuesLive:
    """Publishes each user's queues on the ``queues`` topic when a queue changes."""

    def __init__(self, web: Any, service: QueuesService) -> None:
        self.web, self.service = web, service
        self.changed = Coalesced(COALESCE, self.flush)

    def snapshot(self, user: Any) -> Any:
        return self._payload_async(user)

    async def _payload_async(self, user: Any) -> dict[str, Any]:
        return {"queues": await self.service.overview(user)}

    def flush(self) -> None:
        service = self.service
        watching = self.web.watching("queues")
        for user in service.config.users:
            if watching is not None and user.name not in watching:
                continue  # nobody to tell: no work for a user without the page open
            if not service.may(user, "queue_agent"):
                continue
            data = {"queues": service.known_overview(user)}
            self.web.publish("queues", data, users=[user], key="state")


def routes(web: Any, service: QueuesService) -> None:
    """Add the queues page, its actions, its API and its live topic."""
    live = QueuesLive(web, service)

    @web.page("/queues", permission="queue_agent", menu=MENU, order=30, template=PAGE)
    async def queues_page(req: Any) -> dict[str, Any]:
        return {"queues": await service.overview(req.user)}

    async def done(req: Any, result: Any, key: str) -> Any:
        live.changed()
        queues = ", ".join(result.changed or result.unchanged)
        return req.back(req.t(key, queues=queues, reason=result.reason or ""))

    @web.action("/queues/<queue>/login", permission="queue_agent")
    async def queue_login(req: Any, queue: str) -> Any:
        result = await service.queue_login(req.user, queue)
        return await done(req, result, "queue.login" if result.changed else "queue.login_none")

    @web.action("/queues/<queue>/logout", permission="queue_agent")
    async def queue_logout(req: Any, queue: str) -> Any:
        return await done(req, await service.queue_logout(req.user, queue), "queue.logout")

    @web.action("/queues/<queue>/pause", permission="queue_agent")
    async def queue_pause(req: Any, queue: str) -> Any:
        data = req.json if isinstance(req.json, dict) else req.form
        reason = data.get("reason") or None
        result = await service.queue_pause(req.user, reason, queue)
        if not result.changed:
            return await done(req, result, "queue.pause_none")
        return await done(req, result, "queue.pause" if result.reason else "queue.pause_plain")

    @web.action("/queues/<queue>/resume", permission="queue_agent")
    async def queue_resume(req: Any, queue: str) -> Any:
        result = await service.queue_resume(req.user, queue)
        return await done(req, result, "queue.resume" if result.changed else "queue.resume_none")

    @web.api("/api/queues", methods=("GET",), permission="queue_agent")
    async def api_queues(req: Any) -> dict[str, Any]:
        """My queues: agents (state, pause), waiting callers (wait in seconds), counts."""
        return {"queues": await service.overview(req.user)}

    def answer(result: Any) -> dict[str, Any]:
        live.changed()
        return {
            "action": result.action,
            "changed": list(result.changed),
            "unchanged": list(result.unchanged),
            "reason": result.reason,
        }

    @web.api("/api/queues/<queue>/login", methods=("POST",), permission="queue_agent")
    async def api_login(req: Any, queue: str) -> dict[str, Any]:
        """Log my extension into a dynamic queue."""
        return answer(await service.queue_login(req.user, queue))

    @web.api("/api/queues/<queue>/logout", methods=("POST",), permission="queue_agent")
    async def api_logout(req: Any, queue: str) -> dict[str, Any]:
        """Log my extension out of a dynamic queue."""
        return answer(await service.queue_logout(req.user, queue))

    @web.api(
        "/api/queues/<queue>/pause", methods=("POST",), permission="queue_agent", request=PauseIn
    )
    async def api_pause(req: Any, queue: str) -> dict[str, Any]:
        """Pause me in a queue, with an optional reason."""
        return answer(await service.queue_pause(req.user, req.json.reason or None, queue))

    @web.api("/api/queues/<queue>/resume", methods=("POST",), permission="queue_agent")
    async def api_resume(req: Any, queue: str) -> dict[str, Any]:
        """Unpause me in a queue."""
        return answer(await service.queue_resume(req.user, queue))

    web.live("queues", snapshot=live.snapshot, permission="queue_agent")
    bus = service.ctx.bus
    if bus is not None:
        bus.subscribe(
            live.changed,
            QueueCallerJoined,
            QueueCallerLeft,
            QueueCallerAbandoned,
            QueueMemberChanged,
            PbxResynced,
        )
