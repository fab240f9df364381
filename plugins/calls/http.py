"""The calls plugin's web side: the dial box and the call box of the top bar (F3, F26), live."""

from __future__ import annotations

from typing import Any

from ctibot.plugin import (
    BadArgument,
    BaseModel,
    CallAnswered,
    CallEnded,
    CallRecordingChanged,
    CallRinging,
    CallStateChanged,
    Coalesced,
    Field,
    PbxResynced,
    label,
)

from .services import CallsService, placed_lines, with_default

__all__ = ["routes", "with_default"]


class DialIn(BaseModel):
    """Whom to call: a number, a colleague (name or extension) or a contact."""

    destination: str = Field(max_length=200, description="number, colleague or contact")


class DialOut(BaseModel):
    """The call placed: from which of my phones, to what; ``via`` "phone" when my desk phone
    dialled by itself (automatic click-to-call), "pbx" when it rang first."""

    extension: str
    destination: str
    name: str | None
    via: str
    message: str


TOPIC = "calls.me"
#: The user's settings the call box uses (kept by the settings plugin in the core store).
URL_KEY = "settings.url"
COALESCE = 0.1
RECORD = ("start", "pause", "resume", "stop")


class CallsLive:
    """Each user's calls on the ``calls.me`` topic, published when one of them changes."""

    def __init__(self, web: Any, service: CallsService) -> None:
        self.web, self.service = web, service
        self.changed = Coalesced(COALESCE, self.flush)
        self._last: dict[str, Any] = {}
        self._urls: dict[str, str] = {}

    async def payload(self, user: Any, *, fresh: bool = False) -> dict[str, Any]:
        """The user's calls and the F26 URL template (read again from the store when
        ``fresh``: a page load after the settings were saved)."""
        if fresh or user.name not in self._urls:
            store = self.service.ctx.store
            template = await store.get_setting(user.name, URL_KEY) if store is not None else None
            self._urls[user.name] = template if isinstance(template, str) else ""
        return {"calls": self.service.my_calls(user), "url": self._urls[user.name]}

    async def snapshot(self, user: Any) -> dict[str, Any]:
        data = await self.payload(user, fresh=True)
        self._last[user.name] = data["calls"]
        return data

    async def flush(self) -> None:
        watching = self.web.watching(TOPIC)
        for user in self.service.config.users:
            if watching is not None and user.name not in watching:
                continue
            data = await self.payload(user)
            if self._last.get(user.name) == data["calls"]:
                continue
            self._last[user.name] = data["calls"]
            self.web.publish(TOPIC, data, users=[user], key="state")


def routes(web: Any, service: CallsService) -> None:
    """The top bar's dial box and call box, their actions and API, the live topic."""
    live = CallsLive(web, service)

    async def me(req: Any) -> Any:
        return await service.caller(req.user)

    def field(req: Any, name: str) -> str:
        data = req.json if isinstance(req.json, dict) else req.form
        value = data.get(name, "")
        return value if isinstance(value, str) else ""

    @web.action("/calls/dial", permission="call")
    async def dial(req: Any) -> Any:
        placed = await service.call(await me(req), field(req, "destination"))
        live.changed()
        return req.back(" ".join(req.t(key, **params) for key, params in placed_lines(placed)))

    @web.api(
        "/api/calls/dial", methods=("POST",), permission="call", request=DialIn, response=DialOut
    )
    async def api_dial(req: Any) -> DialOut:
        """Click-to-call from my default phone (automatic mode: the phone dials by itself)."""
        placed = await service.call(await me(req), req.json.destination)
        live.changed()
        text = " ".join(req.t(key, **params) for key, params in placed_lines(placed))
        return DialOut(
            extension=placed.extension,
            destination=placed.destination,
            name=placed.name,
            via=placed.via,
            message=text,
        )

    @web.action("/calls/hangup", permission="hangup")
    async def hangup(req: Any) -> Any:
        done = await service.hangup(req.user)
        live.changed()
        return req.back(req.t("hangup.done", party=label(done.party_name, done.party)))

    @web.action("/calls/transfer", permission="transfer")
    async def transfer(req: Any) -> Any:
        done = await service.transfer(req.user, field(req, "destination"))
        live.changed()
        return req.back(
            req.t(
                "transfer.done",
                party=label(done.party_name, done.party),
                destination=label(done.destination_name, done.destination),
            )
        )

    @web.action("/calls/park", permission="park")
    async def park(req: Any) -> Any:
        done = await service.park(req.user)
        live.changed()
        if done.destination:
            return req.back(req.t("park.done", slot=done.destination))
        return req.back(req.t("park.done_noslot"))

    @web.action("/calls/record", permission="recording")
    async def record(req: Any) -> Any:
        what = field(req, "action") or "start"
        if what not in RECORD:
            raise BadArgument("error.bad_choice", value=what[:20], choices="|".join(RECORD))
        await service.record(req.user, what)
        live.changed()
        return req.back(req.t(f"calls.web.record_{what}"))

    @web.api("/api/calls/search", methods=("GET",), permission="call")
    async def api_search(req: Any) -> dict[str, Any]:
        """Users whose name or extension matches ``q`` (the dial box's suggestions)."""
        return {"users": service.search_users(req.user, req.args.get("q", ""))}

    @web.api("/api/calls/mine", methods=("GET",), permission=None)
    async def api_mine(req: Any) -> dict[str, Any]:
        """My current calls (what the call box shows)."""
        return await live.payload(req.user, fresh=True)

    web.live(TOPIC, snapshot=live.snapshot)
    web.topbar("calls/topbar.html", permission="call", order=10)
    bus = service.ctx.bus
    if bus is not None:
        bus.subscribe(
            live.changed,
            CallRinging,
            CallAnswered,
            CallEnded,
            CallStateChanged,
            CallRecordingChanged,
            PbxResynced,
        )
