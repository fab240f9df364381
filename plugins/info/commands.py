"""The information commands: status, who, calls, whoami."""
# ruff: noqa: RUF012 - command declarations are read-only class data

from __future__ import annotations

import time

from ctibot.plugin import (
    Arg,
    CallLine,
    Command,
    Context,
    CurrentCall,
    Lines,
    Reply,
    Result,
    label,
    translate,
)


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def shown_target(ctx: Context, value: str) -> str:
    """A forward's destination as the user reads it: their voicemail, mobile, or a label."""
    kind, text = ctx.service.forward_target(ctx.user, value)
    if kind == "voicemail":
        return translate("word.voicemail", ctx.language)
    if kind == "mobile":
        return translate("word.mobile", ctx.language, number=text)
    return text or value


def _call_line(ctx: Context, call: CurrentCall) -> Reply:
    party = label(call.party_name, call.party)
    if call.state == "voicemail":  # unanswered: the caller is leaving a message (as presence)
        return Reply.of(
            "status.call_voicemail",
            party=party or call.voicemail or "?",
            extension=call.extension,
            since=_duration(ctx.service.now() - call.since),
        )
    since = _duration(ctx.service.now() - call.since)
    if call.conference is not None:  # many parties: the room is the call
        return Reply.of(
            "status.call_conference", room=call.conference, extension=call.extension, since=since
        )
    if call.spied is not None:  # the spy's own call: whom it listens to
        return Reply.of(
            "status.call_spying", party=party or call.spied, extension=call.extension, since=since
        )
    key = "status.call_ringing" if call.state == "ringing" else "status.call"
    if call.recording:
        key += "_recording"
    return Reply.of(
        key,
        party=party,
        extension=call.extension,
        since=_duration(ctx.service.now() - call.since),
    )


class Status(Command):
    name = "status"
    order = 40
    aliases = {"it": ("stato",)}
    title = {"en": "My status", "it": "Il mio stato"}
    adhoc = True  # no fields: ad-hoc runs it at once
    help = {"en": "your phones, DND, forwards, queues, calls", "it": "i tuoi telefoni e code"}

    async def run(self, ctx: Context) -> Result:
        report = await ctx.service.status(ctx.user)
        lang = ctx.language
        lines: list[Reply | str] = []
        for phone in report.phones:
            extra = [translate("word.dnd", lang)] if phone.dnd else []
            for kind, target in phone.forward.items():
                if target:
                    extra.append(
                        translate(
                            "status.forward",
                            lang,
                            kind=translate(f"kind.{kind}", lang),
                            destination=shown_target(ctx, target),
                        )
                    )
            lines.append(
                Reply.of(
                    "status.phone",
                    extension=phone.extension,
                    status=translate(f"phone.{phone.status}", lang),
                    extra=("; " + ", ".join(extra)) if extra else "",
                )
            )
        for q in report.queues:
            key = "status.queue_paused" if q.paused else "status.queue"
            lines.append(Reply.of(key, queue=q.queue, reason=q.reason or "-"))
        lines.extend(_call_line(ctx, c) for c in report.calls)
        if not report.calls:
            lines.append(Reply.of("status.no_call"))
        return Lines(tuple(lines))


class Who(Command):
    name = "who"
    order = 41
    aliases = {"it": ("chi",)}
    permission = "presence_panel"
    args = (Arg("name", rest=True, metavar={"en": "name", "it": "nome"}),)
    help = {"en": "who is available", "it": "chi è disponibile"}

    async def run(self, ctx: Context, name: str | None = None) -> Result:
        people = await ctx.service.who(ctx.user, name)
        lang = ctx.language
        lines: list[Reply | str] = []
        for p in people:
            state = translate(f"presence.{p.presence}", lang)
            if p.phone in ("ringing", "busy", "onhold", "offline"):
                state = translate(f"phone.{p.phone}", lang)
                if p.talking_with and p.phone in ("busy", "onhold"):
                    state = translate("who.talking", lang, party=p.talking_with)
            lines.append(
                Reply.of(
                    "who.line", fullname=p.fullname, extensions=", ".join(p.extensions), state=state
                )
            )
        return Lines(tuple(lines))


def _when(start: float | str | None) -> str:
    if isinstance(start, int | float):
        return time.strftime("%d/%m %H:%M", time.localtime(start))
    if isinstance(start, str) and len(start) >= 16:
        return f"{start[8:10]}/{start[5:7]} {start[11:16]}"  # ISO 8601 from the snapshot
    return "?"


class Calls(Command):
    name = "calls"
    order = 42
    aliases = {"it": ("chiamate",)}
    permission = "cdr"
    help = {"en": "your last ten calls", "it": "le tue ultime dieci chiamate"}

    async def run(self, ctx: Context) -> Result:
        calls: list[CallLine] = await ctx.service.recent_calls(ctx.user)
        if not calls:
            return Reply.of("calls.none")
        lines: list[Reply | str] = [Reply.of("calls.title")]
        for c in calls:
            party = label(c.party_name, c.party)
            key = f"calls.{c.direction}" + ("" if c.answered else "_missed")
            lines.append(
                Reply.of(key, when=_when(c.start), party=party, duration=_duration(c.duration))
            )
        return Lines(tuple(lines))


class Whoami(Command):
    name = "whoami"
    order = 43
    aliases = {"it": ("chisono",)}
    help = {"en": "who ctibot thinks you are", "it": "chi sei per ctibot"}

    async def run(self, ctx: Context) -> Result:
        me = await ctx.service.whoami(ctx.user)
        return Reply.of(
            "whoami",
            fullname=me.fullname,
            name=me.name,
            extensions=", ".join(me.extensions),
            profile=me.profile,
            mobile=me.mobile or "-",
        )


COMMANDS = (Status, Who, Calls, Whoami)
