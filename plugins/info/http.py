"""The info plugin's web side: users and speed dial (F19) with my last ten calls (F20), live."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ctibot.plugin import (
    CallAnswered,
    CallEnded,
    CallRinging,
    Coalesced,
    DndChanged,
    ExtensionStatusChanged,
    ForwardChanged,
    PbxResynced,
    label,
)

from .services import InfoService

PAGE = "info/users.html"
MENU = {"en": "Users", "it": "Utenti"}
TOPIC = "info.users"
COALESCE = 0.2


def person(service: InfoService, presence: Any) -> dict[str, Any]:
    """One user's row: state words come from the page, names by the one rule."""
    data = asdict(presence)
    data.pop("calls", None)
    data["extension"] = presence.extensions[0] if presence.extensions else ""
    data["label"] = label(presence.fullname, data["extension"])
    return data


class UsersLive:
    """Everyone's state on ``info.users`` when a phone, a call, DND or a forward changes."""

    def __init__(self, web: Any, service: InfoService) -> None:
        self.web, self.service = web, service
        self.changed = Coalesced(COALESCE, self.flush)
        self._last: Any = None

    def payload(self, _user: Any = None) -> dict[str, Any]:
        service = self.service
        return {"users": [person(service, service.presence_of(u)) for u in service.config.users]}

    def snapshot(self, _user: Any = None) -> dict[str, Any]:
        self._last = None  # a newcomer may hold another state than the last one sent: resend
        return self.payload()

    def flush(self) -> None:
        if not self.web.watching(TOPIC):
            self._last = None
            return
        data = self.payload()
        if data != self._last:
            self._last = data
            self.web.publish(TOPIC, data, key="state")


def routes(web: Any, service: InfoService) -> None:
    """The users page, its API and its live topic."""
    live = UsersLive(web, service)

    def page_of(plugin: str) -> str | None:
        for info in web.routes.values():
            if info.plugin == plugin and info.kind == "page" and info.menu and "<" not in info.rule:
                return info.rule
        return None

    @web.page("/users", permission="presence_panel", menu=MENU, order=15, template=PAGE)
    async def users_page(req: Any) -> dict[str, Any]:
        people = [person(service, p) for p in await service.who(req.user)]
        recent = await service.recent_calls(req.user) if req.may("cdr") else []
        return {
            "people": people,
            "recent": [asdict(c) | {"label": label(c.party_name, c.party)} for c in recent],
            "postit_page": page_of("postit"),
            "sms_page": page_of("sms"),
        }

    @web.api("/api/users", methods=("GET",), permission="presence_panel")
    async def api_users(req: Any) -> dict[str, Any]:
        """Every user and their state."""
        return {"users": [person(service, p) for p in await service.who(req.user)]}

    @web.api("/api/calls/recent", methods=("GET",), permission="cdr")
    async def api_recent(req: Any) -> dict[str, Any]:
        """My last ten calls, newest first."""
        recent = await service.recent_calls(req.user)
        return {"calls": [asdict(c) | {"label": label(c.party_name, c.party)} for c in recent]}

    web.live(TOPIC, snapshot=live.snapshot, permission="presence_panel")
    bus = service.ctx.bus
    if bus is not None:
        bus.subscribe(
            live.changed,
            CallRinging,
            CallAnswered,
            CallEnded,
            DndChanged,
            ForwardChanged,
            ExtensionStatusChanged,
            PbxResynced,
        )
