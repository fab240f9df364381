"""The board's page, its actions (forms and fetch) and its live topic ``board``."""

from __future__ import annotations

from typing import Any

from ctibot.plugin import PluginContext

from .services import BoardService

PERMISSION = "operator_panel"

#: The strings the page's script needs (statuses, buttons), sent with the page.
SCRIPT_KEYS = (
    "free", "no_calls", "pickup", "hangup", "record", "stop_record", "listen", "whisper",
    "move", "move_hint", "cancel", "call_it", "chat", "postit", "sms", "send", "text",
    "number", "recording", "connecting", "channels", "done",
    "status.idle", "status.busy", "status.ringing", "status.onhold", "status.unavailable",
    "status.unknown", "status.dnd", "call.ringing", "call.up", "call.onhold", "call.parked",
    "call.voicemail",
)  # fmt: skip


PLACEHOLDERS = {name: "{" + name + "}" for name in ("used", "max", "number")}


def _field(req: Any, name: str, limit: int = 200) -> str:
    value = (req.form or {}).get(name) or ""
    return str(value).strip()[:limit]


def routes(web: Any, service: BoardService) -> None:
    """The board at ``/board`` (permission ``operator_panel``) and its actions."""

    @web.page(
        "/board",
        permission=PERMISSION,
        menu={"en": "Board", "it": "Centralino"},
        order=20,
        template="board/index.html",
    )
    async def board_page(req: Any) -> dict:
        return {
            "board": service.snapshot(req.user),
            # the script fills in the placeholders itself: they stay as they are
            "labels": {key: req.t(f"board.web.{key}", **PLACEHOLDERS) for key in SCRIPT_KEYS},
        }

    @web.action("/board/calls/<call_id>/hangup", permission=PERMISSION)
    async def hangup(req: Any, call_id: str):
        await service.hangup(req.user, call_id, _field(req, "extension", 40))
        return req.back(req.t("board.web.hung_up"))

    @web.action("/board/calls/<call_id>/transfer", permission=PERMISSION)
    async def transfer(req: Any, call_id: str):
        done = await service.transfer(
            req.user, call_id, _field(req, "extension", 40), _field(req, "destination", 80)
        )
        party = done.party_name or done.party or "?"
        destination = done.destination_name or done.destination or "?"
        return req.back(req.t("board.web.transferred", party=party, destination=destination))

    @web.action("/board/calls/<call_id>/park", permission=PERMISSION)
    async def park(req: Any, call_id: str):
        done = await service.park(req.user, call_id, _field(req, "extension", 40))
        if done.destination:
            return req.back(req.t("board.web.parked_on", slot=done.destination))
        return req.back(req.t("board.web.parked"))

    @web.action("/board/calls/<call_id>/record", permission=PERMISSION)
    async def record(req: Any, call_id: str):
        action = _field(req, "action", 10) or "start"
        await service.record(req.user, call_id, _field(req, "extension", 40), action)
        key = "recording_stopped" if action == "stop" else "recording_started"
        return req.back(req.t(f"board.web.{key}"))

    @web.action("/board/extensions/<extension>/spy", permission=PERMISSION)
    async def spy(req: Any, extension: str):
        mode = "whisper" if _field(req, "mode", 10) == "whisper" else "listen"
        await service.spy(req.user, extension, mode)
        key = "whispering" if mode == "whisper" else "spying"
        return req.back(req.t(f"board.web.{key}", extension=extension))

    @web.action("/board/extensions/<extension>/call", permission=PERMISSION)
    async def call(req: Any, extension: str):
        await service.call(req.user, extension)
        return req.back(req.t("board.web.calling", destination=extension))

    @web.action("/board/parking/<slot>/pickup", permission=PERMISSION)
    async def pickup(req: Any, slot: str):
        await service.pickup(req.user, slot)
        return req.back(req.t("board.web.picked_up", slot=slot))

    @web.action("/board/postit", permission=PERMISSION)
    async def postit(req: Any):
        to = _field(req, "to", 80)
        await service.postit(req.user, to, _field(req, "text", 2000))
        return req.back(req.t("board.web.postit_sent", name=to))

    @web.action("/board/sms", permission=PERMISSION)
    async def sms(req: Any):
        number = _field(req, "number", 40)
        await service.sms(req.user, number, _field(req, "text", 1600))
        return req.back(req.t("board.web.sms_sent", number=number))

    @web.api("/api/board", methods=("GET",), permission=PERMISSION)
    async def api_board(req: Any) -> dict:
        return service.snapshot(req.user)

    web.live("board", snapshot=service.live_snapshot, permission=PERMISSION)
    service.publisher = lambda topic, data: web.publish(topic, data, users=service.operators())


def teardown(ctx: PluginContext, service: BoardService) -> None:
    service.stop()
