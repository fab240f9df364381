"""Chat and ad-hoc commands: ``postit <user> <text>``, ``postits``, ``postit read|delete <n>``."""
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
    Option,
    Reply,
    Result,
    Values,
)

from .services import Postit, PostitService

#: Sub-command words after ``postit`` (English and Italian).
_READ = ("read", "show", "leggi", "mostra")
_DELETE = ("delete", "del", "remove", "elimina", "cancella", "butta")
_SENT = ("sent", "inviati", "lasciati")
_PREVIEW = 60


def _service(ctx: Context) -> PostitService:
    return ctx.service  # type: ignore[attr-defined, no-any-return]


def _at(ctx: Context, moment: float) -> str:
    now = time.localtime()
    then = time.localtime(moment)
    if then[:3] == now[:3]:
        return time.strftime("%H:%M", then)
    return time.strftime("%d/%m %H:%M", then)


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _PREVIEW else flat[: _PREVIEW - 1] + "…"


def _number(ctx: Context, word: str | None) -> int:
    arg = Arg("n", "int", minimum=1, maximum=999_999_999)
    if not word:
        raise ArgError("parse.missing", name="<n>")
    words = word.split()
    if len(words) > 1:
        raise ArgError("parse.extra", value=" ".join(words[1:]))
    return int(arg.convert(words[0].lstrip("#")))


class PostitCommand(Command):
    name = "postit"
    order = 60
    aliases = {"en": ("postit", "post-it"), "it": ("postit", "bigliettino", "post-it")}
    permission = "postit"
    args = (
        Arg("target", metavar={"en": "user", "it": "utente"}),
        Arg("text", rest=True, max_len=1_000_000, metavar={"en": "text", "it": "testo"}),
    )
    usage_override = {
        "en": "postit <user> <text> · postit read|delete <n> · postits [sent]",
        "it": "postit <utente> <testo> · postit leggi|elimina <n> · postit inviati",
    }
    help = {
        "en": "leave a post-it for a colleague; read, delete, list yours",
        "it": "lascia un post-it a un collega; leggi, elimina, elenca i tuoi",
    }
    title = {"en": "Leave a post-it", "it": "Lascia un post-it"}
    adhoc = True
    form = (
        FormField(
            "to",
            "list-single",
            {"en": "For", "it": "Per"},
            options=lambda ctx: _recipient_options(ctx),
            required=True,
        ),
        FormField("text", "text-multi", {"en": "Text", "it": "Testo"}, required=True),
    )

    async def run(self, ctx: Context, target: str | None = None, text: str | None = None) -> Result:
        word = (target or "").casefold()
        if not word:
            return await show_mine(ctx)
        if word in _READ:
            return read_reply(ctx, await _service(ctx).read(ctx.user, _number(ctx, text)))
        if word in _DELETE:
            postit = await _service(ctx).delete(ctx.user, _number(ctx, text))
            return Reply.of("postit.deleted", id=postit.id)
        if word in _SENT and not text:
            return await show_sent(ctx)
        left = await _service(ctx).leave(ctx.user, target or "", text or "")
        if left.recipient.jid is None:
            key = "postit.sent_stored"
        else:
            key = "postit.sent" if left.delivered else "postit.sent_waiting"
        return Reply.of(key, id=left.postit.id, name=left.recipient.fullname)

    def from_form(self, ctx: Context, values: Values) -> dict[str, Any]:
        to = _one(values, "to")
        raw = values.get("text") or ""
        text = "\n".join(raw) if isinstance(raw, list) else raw
        if not to:
            raise ArgError("parse.missing", name=self.args[0].shown(ctx.language))
        if not text.strip():
            raise ArgError("postit.error.empty")
        return {"target": to, "text": text}


class PostitsCommand(Command):
    name = "postits"
    order = 61
    aliases = {"en": ("postits", "post-its"), "it": ("postits", "bigliettini")}
    permission = "postit"
    args = (
        Arg(
            "which",
            "choice",
            ("mine", "sent"),
            {"inviati": "sent", "lasciati": "sent", "miei": "mine", "ricevuti": "mine"},
            metavar={"en": "sent", "it": "inviati"},
        ),
    )
    help = {
        "en": "your post-its, unread first; “postits sent”: those you left, read or not",
        "it": "i tuoi post-it, prima quelli da leggere; «postits inviati»: quelli che hai "
        "lasciato, letti o no",
    }
    title = {"en": "My post-its", "it": "I miei post-it"}
    adhoc = True
    form = (
        FormField(
            "which",
            "list-single",
            {"en": "Which", "it": "Quali"},
            options=(
                ("mine", {"en": "Left for me", "it": "Lasciati a me"}),
                ("sent", {"en": "Left by me", "it": "Lasciati da me"}),
            ),
            default="mine",
        ),
    )

    async def run(self, ctx: Context, which: str | None = None) -> Result:
        return await (show_sent(ctx) if which == "sent" else show_mine(ctx))


COMMANDS: tuple[type[Command], ...] = (PostitCommand, PostitsCommand)


# -- rendering --------------------------------------------------------------------------------


async def show_mine(ctx: Context) -> Result:
    service = _service(ctx)
    postits = await service.mine(ctx.user)
    if not postits:
        return Reply.of("postit.none")
    unread = await service.unread_count(ctx.user)
    lines: list[Reply | str] = [Reply.of("postit.mine", unread=unread)]
    for p in postits:
        lines.append(
            Reply.of(
                "postit.line_unread" if p.unread else "postit.line_read",
                id=p.id,
                name=service.name_of(p.author),
                at=_at(ctx, p.created),
                text=_preview(p.text),
            )
        )
    lines.append(Reply.of("postit.hint"))
    return Lines(tuple(lines))


async def show_sent(ctx: Context) -> Result:
    service = _service(ctx)
    postits = await service.sent(ctx.user)
    if not postits:
        return Reply.of("postit.none_sent")
    lines: list[Reply | str] = [Reply.of("postit.sent_list")]
    for p in postits:
        lines.append(
            Reply.of(
                _sent_key(service, p),
                id=p.id,
                name=service.name_of(p.recipient),
                at=_at(ctx, p.created),
                read_at=_at(ctx, p.read) if p.read is not None else "",
                text=_preview(p.text),
            )
        )
    return Lines(tuple(lines))


def _sent_key(service: PostitService, postit: Postit) -> str:
    if not postit.unread:
        return "postit.line_sent_read"
    recipient = service.user_named(postit.recipient)
    if postit.delivered is None and recipient is not None and recipient.jid is not None:
        return "postit.line_sent_waiting"  # a chat user, offline: it goes when they come back
    return "postit.line_sent_unread"


def read_reply(ctx: Context, postit: Postit) -> Result:
    service = _service(ctx)
    at = _at(ctx, postit.created)
    if postit.recipient == ctx.user.name:
        return Reply.of(
            "postit.read",
            id=postit.id,
            name=service.name_of(postit.author),
            at=at,
            text=postit.text,
        )
    return Reply.of(
        "postit.read_own_unread" if postit.unread else "postit.read_own_read",
        id=postit.id,
        name=service.name_of(postit.recipient),
        at=at,
        read_at=_at(ctx, postit.read) if postit.read is not None else "",
        text=postit.text,
    )


def _recipient_options(ctx: Context) -> list[Option]:
    return [(u.name, u.fullname) for u in _service(ctx).recipients(ctx.user)]


def _one(values: Values, key: str) -> str:
    raw = values.get(key)
    text = (raw[0] if raw else "") if isinstance(raw, list) else (raw or "")
    return text.strip()
