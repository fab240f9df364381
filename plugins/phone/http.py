"""The phone plugin's web side: the top bar's DND toggle and forward menu (F7, F8), live."""

from __future__ import annotations

from typing import Any

from ctibot.plugin import BadArgument, Coalesced, DndChanged, ForwardChanged, PbxResynced

from .services import PhoneService

TOPIC = "phone.me"
COALESCE = 0.1
FORWARD_CHOICES = ("off", "voicemail", "mobile", "number")


class PhoneLive:
    """Each user's DND and unconditional forward on the ``phone.me`` topic."""

    def __init__(self, web: Any, service: PhoneService) -> None:
        self.web, self.service = web, service
        self.changed = Coalesced(COALESCE, self.flush)
        self._last: dict[str, Any] = {}

    def payload(self, user: Any) -> dict[str, Any]:
        service = self.service
        value = service.unconditional_forward(user)
        kind, target = service.forward_target(user, value) if value else ("off", None)
        return {
            "dnd": service.dnd_on(user),
            "forward": kind,
            "forward_to": target,
            "has_mobile": bool(user.mobile),
        }

    def snapshot(self, user: Any) -> dict[str, Any]:
        data = self.payload(user)
        self._last[user.name] = data
        return data

    def flush(self) -> None:
        watching = self.web.watching(TOPIC)
        for user in self.service.config.users:
            if watching is not None and user.name not in watching:
                continue
            data = self.payload(user)
            if self._last.get(user.name) == data:
                continue
            self._last[user.name] = data
            self.web.publish(TOPIC, data, users=[user], key="state")


def routes(web: Any, service: PhoneService) -> None:
    """The DND toggle and the forward menu of the top bar, their API, the live topic."""
    live = PhoneLive(web, service)

    def data_of(req: Any) -> Any:
        return req.json if isinstance(req.json, dict) else req.form

    @web.action("/phone/dnd", permission="dnd")
    async def dnd(req: Any) -> Any:
        value = str(data_of(req).get("on", ""))
        if value not in ("0", "1", "true", "false", "on", "off"):
            raise BadArgument("error.bad_choice", value=value[:20], choices="on|off")
        result = await service.set_dnd(req.user, value in ("1", "true", "on"))
        live.changed()
        return req.back(req.t("phone.web.dnd_on" if result.on else "phone.web.dnd_off"))

    @web.action("/phone/forward", permission="call_forward")
    async def forward(req: Any) -> Any:
        data = data_of(req)
        choice = str(data.get("forward", ""))
        if choice not in FORWARD_CHOICES:
            raise BadArgument("error.bad_choice", value=choice[:20],
                              choices="|".join(FORWARD_CHOICES))
        destination = str(data.get("number", "")) if choice == "number" else choice
        if choice == "number" and not destination.strip():
            raise BadArgument("phone.web.number_missing")
        result = await service.set_forward(req.user, "unconditional", destination)
        live.changed()
        if result.destination is None:
            return req.back(req.t("phone.web.forward_off"))
        kind, target = service.forward_target(req.user, result.destination)
        return req.back(req.t(f"phone.web.forward_{kind}", target=target or ""))

    @web.api("/api/phone", methods=("GET",), permission=None)
    async def api_phone(req: Any) -> dict[str, Any]:
        """My DND and unconditional forward."""
        return live.payload(req.user)

    web.live(TOPIC, snapshot=live.snapshot)
    web.topbar("phone/topbar.html", permission="dnd", order=20)
    bus = service.ctx.bus
    if bus is not None:
        bus.subscribe(live.changed, DndChanged, ForwardChanged, PbxResynced)
