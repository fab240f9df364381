"""The off-hour page's live topic: on each change, every user it concerns gets their own view."""

from __future__ import annotations

from typing import Any

from ctibot.plugin import UserConfig

from .services import ADMIN_PERMISSION, PERMISSION, Announcement, OffhourService, RouteView

TOPIC = "offhour"


def rule_json(view: RouteView) -> dict[str, Any]:
    """A route and its rule as the JSON API gives it."""
    rule = view.rule
    return {
        "did": view.route.did,
        "label": view.route.label,
        "generic": view.route.generic,
        "active": view.active,
        "mode": rule.mode,
        "start": rule.start,
        "end": rule.end,
        "timezone": rule.timezone,
        "action": rule.action,
        "target": rule.target,
        "announcement": rule.announcement,
    }


def announcement_json(found: Announcement, user: UserConfig) -> dict[str, Any]:
    """An announcement as the JSON API gives it (``mine``: the user is its author)."""
    return {
        "id": found.id,
        "author": found.author,
        "description": found.description,
        "public": found.public,
        "state": found.state,
        "mine": found.author == user.name,
    }


class OffhourLive:
    """Publishes the ``offhour`` topic: a user's routes (those they may manage) and the
    announcements they may see (their own, everyone's public ones) — nothing else."""

    def __init__(self, web: Any, service: OffhourService) -> None:
        self.web, self.service = web, service
        service.on_change = self.changed

    async def view(self, user: UserConfig) -> dict[str, Any]:
        """What the page shows the user, with the date-times as its fields show them."""
        service = self.service
        if not service.may_use(user):
            return {"routes": [], "announcements": []}
        routes = []
        for view in await service.overview(user):
            data = rule_json(view)
            data.update(start_local=view.rule.local("start"), end_local=view.rule.local("end"))
            routes.append(data)
        names = {u.name: u.fullname for u in service.config.users}
        announcements = []
        for found in await service.visible(user):
            data = announcement_json(found, user)
            data["author_name"] = names.get(found.author, found.author)
            announcements.append(data)
        return {"routes": routes, "announcements": announcements}

    def concerned(
        self, dids: tuple[str, ...], announcements: tuple[Announcement, ...]
    ) -> list[UserConfig]:
        """Who a change may show to: a route's managers; a public announcement's viewers
        (everyone on the page), a private one's author only."""
        service = self.service
        routes = [r for r in service.routes() if r.did in dids]
        everyone = any(a.public for a in announcements)
        authors = {a.author for a in announcements}
        out = []
        for user in service.config.users:
            if not service.may(user, PERMISSION):  # the topic's permission
                continue
            if everyone or user.name in authors or any(service.may_manage(user, r) for r in routes):
                out.append(user)
        return out

    async def changed(
        self, dids: tuple[str, ...] = (), announcements: tuple[Announcement, ...] = ()
    ) -> None:
        """A rule (of ``dids``) or an announcement changed: refresh the concerned pages."""
        watching = self.web.watching(TOPIC)
        for user in self.concerned(dids, announcements):
            if watching is not None and user.name not in watching:
                continue  # no page open: no work
            self.web.publish(TOPIC, await self.view(user), users=[user], key="state")


__all__ = ["ADMIN_PERMISSION", "TOPIC", "OffhourLive", "announcement_json", "rule_json"]
