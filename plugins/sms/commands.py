"""Chat and ad-hoc commands: ``sms <number> <text>`` and ``sms history``."""
# ruff: noqa: RUF012 - command declarations are read-only class data

from __future__ import annotations

import time
from typing import Any

from ctibot.plugin import (
    Arg,
    ArgError,
    Command,
    Context,
    FormField,
    Lines,
    Reply,
    Result,
    Values,
    translate,
)

from .services import SmsService
from .store import SmsRecord

#: ``sms history`` (and its Italian words) instead of a number.
_HISTORY = ("history", "log", "storico", "cronologia")
_PREVIEW = 50


def _service(ctx: Context) -> SmsService:
    return ctx.service  # type: ignore[attr-defined, no-any-return]


def parts_key(key: str, parts: int) -> str:
    """The message for one part, or its ``_parts`` twin for several (both languages alike)."""
    return key if parts == 1 else f"{key}_parts"


class SmsCommand(Command):
    name = "sms"
    order = 65
    aliases = {"en": ("sms", "text"), "it": ("sms", "messaggino")}
    permission = "sms"
    args = (
        Arg("number", metavar={"en": "number", "it": "numero"}, max_len=64),
        Arg("text", rest=True, max_len=10_000, metavar={"en": "text", "it": "testo"}),
    )
    usage_override = {
        "en": "sms <number> <text> · sms history",
        "it": "sms <numero> <testo> · sms storico",
    }
    help = {
        "en": "send an SMS (or write to <number>@ this component); “sms history”: yours",
        "it": "invia un SMS (o scrivi a <numero>@ questo componente); «sms storico»: i tuoi",
    }
    title = {"en": "Send an SMS", "it": "Invia un SMS"}
    adhoc = True
    form = (
        FormField("number", "text-single", {"en": "Phone number", "it": "Numero"}, required=True),
        FormField("text", "text-multi", {"en": "Text", "it": "Testo"}, required=True),
    )

    async def run(self, ctx: Context, number: str | None = None, text: str | None = None) -> Result:
        service = _service(ctx)
        if not number or (number.casefold() in _HISTORY and not text):
            return await history_reply(ctx, service)
        sent = await service.send(ctx.user, number, text or "")
        parts = sent.segments.parts
        return Reply.of(parts_key("sms.sent", parts), number=sent.record.number, parts=parts)

    def from_form(self, ctx: Context, values: Values) -> dict[str, Any]:
        number = _one(values.get("number"))
        raw = values.get("text") or ""
        text = "\n".join(raw) if isinstance(raw, list) else raw
        if not number:
            raise ArgError("parse.missing", name=self.args[0].shown(ctx.language))
        if not text.strip():
            raise ArgError("sms.error.empty")
        return {"number": number, "text": text}


def _one(value: str | list[str] | None) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return (value or "").strip()


async def history_reply(ctx: Context, service: SmsService) -> Result:
    records = await service.history_of(ctx.user)
    if not records:
        return Reply.of("sms.history.none")
    lines = (history_line(r, ctx.language) for r in records)
    return Lines((Reply.of("sms.history.title"), *lines))


def history_line(record: SmsRecord, language: str) -> Reply:
    key = "sms.history.out" if record.direction == "out" else "sms.history.in"
    flat = " ".join(record.text.split())
    if len(flat) > _PREVIEW:
        flat = flat[: _PREVIEW - 1] + "…"
    return Reply.of(
        key,
        id=record.id,
        at=_at(record.created),
        number=record.number,
        status=translate(f"sms.status.{record.status}", language),
        text=flat,
    )


def _at(moment: float) -> str:
    now, then = time.localtime(), time.localtime(moment)
    if then[:3] == now[:3]:
        return time.strftime("%H:%M", then)
    return time.strftime("%d/%m %H:%M", then)


COMMANDS = (SmsCommand,)
