"""The post-its page: my post-its (unread first), read, delete, write one; a live unread badge."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pydantic import BaseModel, Field

from ctibot.plugin import BadArgument

from .services import PERMISSION, Postit, PostitService

PAGE = "postit/index.html"
MENU = {"en": "Post-its", "it": "Post-it"}


class PostitIn(BaseModel):
    """A post-it to leave: for whom (login name or extension) and what."""

    to: str = Field(max_length=64, description="the recipient's login name or extension")
    text: str = Field(max_length=100_000, description="the note")


class PostitOut(BaseModel):
    """One post-it."""

    id: int
    author: str
    author_name: str
    recipient: str
    recipient_name: str
    text: str
    created: float
    read: float | None
    unread: bool


class PostitsOut(BaseModel):
    """My post-its (unread first) and the ones I left."""

    unread: int
    postits: list[PostitOut]
    sent: list[PostitOut]


class LeftOut(BaseModel):
    """A post-it just left: and whether it reached the recipient's chat now."""

    postit: PostitOut
    delivered: bool


class DeletedOut(BaseModel):
    deleted: int


def _when(at: float) -> str:
    return time.strftime("%d/%m %H:%M", time.localtime(at))


def _number(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise BadArgument("postit.error.no_such_postit", id=raw[:12])
    return int(raw)


class PostitWeb:
    """The page's data, and the live ``postit`` topic (one payload per user)."""

    def __init__(self, web: Any, service: PostitService) -> None:
        self.web, self.service = web, service
        self._tasks: set[asyncio.Task[Any]] = set()

    def out(self, p: Postit) -> PostitOut:
        return PostitOut(
            id=p.id,
            author=p.author,
            author_name=self.service.name_of(p.author),
            recipient=p.recipient,
            recipient_name=self.service.name_of(p.recipient),
            text=p.text,
            created=p.created,
            read=p.read,
            unread=p.unread,
        )

    async def overview(self, user: Any) -> PostitsOut:
        service = self.service
        return PostitsOut(
            unread=await service.unread_count(user),
            postits=[self.out(p) for p in await service.mine(user)],
            sent=[self.out(p) for p in await service.sent(user)],
        )

    async def snapshot(self, user: Any) -> dict[str, Any]:
        data = (await self.overview(user)).model_dump()
        for row in (*data["postits"], *data["sent"]):
            row["when"] = _when(row["created"])
            row["read_when"] = _when(row["read"]) if row["read"] is not None else ""
        return data

    def changed(self, *names: str) -> None:
        """A post-it of these users changed: each gets their list again (in a task)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self.push(set(names)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def push(self, names: set[str]) -> None:
        for name in sorted(names):
            user = self.service.ctx.config.user_by_name(name)
            if user is None or not self.service.may(user):
                continue
            self.web.publish("postit", await self.snapshot(user), users=[user], key="state")


def routes(web: Any, service: PostitService) -> None:
    """Add the post-its page, its actions, its API, its live topic and the top bar badge."""
    live = PostitWeb(web, service)

    @web.page("/postits", permission=PERMISSION, menu=MENU, order=50, template=PAGE)
    async def postits_page(req: Any) -> dict[str, Any]:
        data = await live.overview(req.user)
        return {
            "overview": data,
            "when": _when,
            "recipients": service.recipients(req.user),
            "max_length": service.max_length,
        }

    @web.action("/postits/send", permission=PERMISSION)
    async def send(req: Any) -> Any:
        left = await service.leave(req.user, req.form.get("to", ""), req.form.get("text", ""))
        return req.back(req.t("postit.web.left", name=left.recipient.fullname, id=left.postit.id))

    @web.action("/postits/<number>/read", permission=PERMISSION)
    async def mark_read(req: Any, number: str) -> Any:
        found = await service.read(req.user, _number(number))
        return req.back(req.t("postit.web.marked_read", id=found.id))

    @web.action("/postits/<number>/delete", permission=PERMISSION)
    async def delete(req: Any, number: str) -> Any:
        found = await service.delete(req.user, _number(number))
        return req.back(req.t("postit.web.deleted", id=found.id))

    @web.api("/api/postits", methods=("GET",), permission=PERMISSION, response=PostitsOut)
    async def api_list(req: Any) -> PostitsOut:
        """My post-its (unread first, newest first) and the ones I left."""
        return await live.overview(req.user)

    @web.api(
        "/api/postits",
        methods=("POST",),
        permission=PERMISSION,
        request=PostitIn,
        response=LeftOut,
        endpoint="postit.api_send",
    )
    async def api_send(req: Any) -> LeftOut:
        """Leave a post-it: it goes to the recipient's chat now if they are online."""
        data: PostitIn = req.json
        left = await service.leave(req.user, data.to, data.text)
        return LeftOut(postit=live.out(left.postit), delivered=left.delivered)

    @web.api(
        "/api/postits/<number>/read", methods=("POST",), permission=PERMISSION, response=PostitOut
    )
    async def api_read(req: Any, number: str) -> PostitOut:
        """One post-it; reading one of mine marks it read."""
        return live.out(await service.read(req.user, _number(number)))

    @web.api(
        "/api/postits/<number>",
        methods=("DELETE",),
        permission=PERMISSION,
        response=DeletedOut,
        endpoint="postit.api_delete",
    )
    async def api_delete(req: Any, number: str) -> DeletedOut:
        """Throw away one of my post-its (or withdraw one I left)."""
        return DeletedOut(deleted=(await service.delete(req.user, _number(number))).id)

    web.live("postit", snapshot=live.snapshot, permission=PERMISSION)
    web.topbar(
        "postit/topbar.html",
        permission=PERMISSION,
        order=55,
        context=lambda req: _badge(service, req),
    )
    service.listeners.append(live.changed)


async def _badge(service: PostitService, req: Any) -> dict[str, Any]:
    return {"unread": await service.unread_count(req.user)}
