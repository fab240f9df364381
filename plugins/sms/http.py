"""The inbound SMS webhook (``POST /sms/inbound``), and the SMS page: send one, my history, live.

The gateway posts the sender, our receiving number and the text, as JSON
(``{"from": …, "to": …, "text": …}``) or as a form (the same names, or Twilio's
``From``/``To``/``Body``). The secret comes in the ``X-Ctibot-Secret`` header or
as ``?secret=`` in the URL (for gateways that cannot set headers).
403: no or a wrong secret; 400: a malformed body; 202: no user owns that number.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pydantic import BaseModel, Field
from quart import request

from ctibot.plugin import ServiceError

from .services import PERMISSION, SmsService
from .store import SmsRecord

PATH = "/sms/inbound"
_FIELDS = {"from": ("from", "From", "sender"), "to": ("to", "To"), "text": ("text", "Body", "body")}


def _pick(data: Any, names: tuple[str, ...]) -> Any:
    for name in names:
        if name in data:
            return data[name]
    return None


def routes(http: Any, service: SmsService) -> None:
    """Add the webhook to the HTTP shell."""

    async def inbound() -> tuple[dict[str, str], int]:
        given = request.headers.get("X-Ctibot-Secret") or request.args.get("secret")
        if not service.webhook_allowed(given):
            service.ctx.log.warning("SMS webhook: refused a request from %s", request.remote_addr)
            return {"error": "forbidden"}, 403
        if request.mimetype == "application/json":
            data = await request.get_json(silent=True)
        else:
            data = await request.form
        if not hasattr(data, "__contains__") or isinstance(data, str | list):
            return {"error": "expected a JSON object or a form with from, to, text"}, 400
        fields = {key: _pick(data, names) for key, names in _FIELDS.items()}
        if not all(isinstance(v, str) for v in fields.values()):
            return {"error": "expected from, to and text"}, 400
        try:
            done = await service.receive(fields["from"], fields["to"], fields["text"])
        except ServiceError as exc:
            return {"error": exc.key}, 400
        if done.status == "unknown_number":
            return {"status": "unknown_number"}, 202
        return {"status": done.status}, 200

    http.add_route(PATH, inbound, methods=("POST",), endpoint="sms.inbound")
    if hasattr(http, "page"):
        page_routes(http, service)


# -- the SMS page -------------------------------------------------------------------------------

PAGE = "sms/index.html"
MENU = {"en": "SMS", "it": "SMS"}


class SmsIn(BaseModel):
    """An SMS to send: the number (national or +international) and the text."""

    number: str = Field(max_length=40, description="e.g. +393471234567 or 3471234567")
    text: str = Field(max_length=10_000, description="the text (GSM-7: 160 per part, else 70)")


class SmsOut(BaseModel):
    """One SMS of my history."""

    id: int
    direction: str = Field(description="out | in")
    number: str = Field(description="the other party")
    own_number: str
    text: str
    parts: int
    status: str = Field(description="sending | sent | failed | unknown | received | undelivered")
    reason: str
    created: float
    updated: float


class HistoryOut(BaseModel):
    """My SMS, sent and received, newest first."""

    sms: list[SmsOut]


class SentOut(BaseModel):
    """An SMS the gateway took."""

    sms: SmsOut
    parts: int
    encoding: str


def _out(r: SmsRecord) -> SmsOut:
    return SmsOut(
        id=r.id,
        direction=r.direction,
        number=r.number,
        own_number=r.own_number,
        text=r.text,
        parts=r.parts,
        status=r.status,
        reason=r.reason or "",
        created=r.created,
        updated=r.updated,
    )


def _when(at: float) -> str:
    return time.strftime("%d/%m %H:%M", time.localtime(at))


class SmsLive:
    """The ``sms`` topic: a user's history again whenever one of their SMS changes."""

    def __init__(self, web: Any, service: SmsService) -> None:
        self.web, self.service = web, service
        self._tasks: set[asyncio.Task[Any]] = set()

    async def snapshot(self, user: Any) -> dict[str, Any]:
        rows = [_out(r).model_dump() for r in await self.service.history_of(user)]
        for row in rows:
            row["when"] = _when(row["created"])
        return {"sms": rows}

    def changed(self, name: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self.push(name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def push(self, name: str) -> None:
        user = self.service.ctx.config.user_by_name(name)
        if user is None or not self.service.may(user):
            return
        self.web.publish("sms", await self.snapshot(user), users=[user], key="state")


def page_routes(web: Any, service: SmsService) -> None:
    """The SMS page, its send action, its API and its live topic."""
    live = SmsLive(web, service)

    @web.page("/sms", permission=PERMISSION, menu=MENU, order=55, template=PAGE)
    async def sms_page(req: Any) -> dict[str, Any]:
        service.require(req.user)
        return {
            "history": await service.history_of(req.user),
            "when": _when,
            "max_parts": service.max_parts,
            "gateway": service.gateway is not None,
        }

    @web.action("/sms/send", permission=PERMISSION)
    async def send(req: Any) -> Any:
        sent = await service.send(req.user, req.form.get("number", ""), req.form.get("text", ""))
        return req.back(req.t("sms.web.sent", number=sent.record.number, parts=sent.segments.parts))

    @web.api("/api/sms", methods=("GET",), permission=PERMISSION, response=HistoryOut)
    async def api_history(req: Any) -> HistoryOut:
        """My SMS, sent and received, newest first."""
        service.require(req.user)
        return HistoryOut(sms=[_out(r) for r in await service.history_of(req.user)])

    @web.api(
        "/api/sms",
        methods=("POST",),
        permission=PERMISSION,
        request=SmsIn,
        response=SentOut,
        endpoint="sms.api_send",
    )
    async def api_send(req: Any) -> SentOut:
        """Send an SMS; refused (400/503) with a reason when the gateway does not take it."""
        data: SmsIn = req.json
        sent = await service.send(req.user, data.number, data.text)
        return SentOut(
            sms=_out(sent.record), parts=sent.segments.parts, encoding=sent.segments.encoding
        )

    web.live("sms", snapshot=live.snapshot, permission=PERMISSION)
    service.listeners.append(live.changed)
