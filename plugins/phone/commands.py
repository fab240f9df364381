"""The phone settings commands: do-not-disturb and call forwarding."""
# ruff: noqa: RUF012 - command declarations are read-only class data

from __future__ import annotations

from typing import Any

from ctibot.plugin import (
    Arg,
    ArgError,
    Command,
    Context,
    FormField,
    ForwardResult,
    Lines,
    Option,
    Reply,
    Result,
    Values,
    translate,
)

_ON_OFF = {
    "si": "on",
    "sì": "on",
    "attiva": "on",
    "acceso": "on",
    "no": "off",
    "disattiva": "off",
    "spento": "off",
    # XEP-0004 booleans, as the ad-hoc form sends them
    "1": "on",
    "true": "on",
    "0": "off",
    "false": "off",
}


class Dnd(Command):
    name = "dnd"
    order = 20
    aliases = {"it": ("nondisturbare",)}
    permission = "dnd"
    args = (Arg("state", "choice", ("on", "off"), _ON_OFF, metavar={"it": "si|no"}),)
    help = {"en": "do not disturb: show, on or off", "it": "non disturbare: stato, sì o no"}
    title = {"en": "Do not disturb", "it": "Non disturbare"}
    adhoc = True
    form = (
        FormField(
            "state",
            "boolean",
            {"en": "Do not disturb", "it": "Non disturbare"},
            default=lambda ctx: "1" if _dnd_on(ctx) else "0",
            required=True,
        ),
    )

    async def run(self, ctx: Context, state: str | None = None) -> Result:
        exts = ", ".join(ctx.user.extensions)
        if state is None:
            ctx.service.require_pbx()
            return Reply.of("dnd.is_on" if _dnd_on(ctx) else "dnd.is_off", extensions=exts)
        result = await ctx.service.set_dnd(ctx.user, state == "on")
        if not result.changed:
            return Reply.of("dnd.already_on" if result.on else "dnd.already_off")
        return Reply.of("dnd.set_on" if result.on else "dnd.set_off", extensions=exts)


def _dnd_on(ctx: Context) -> bool:
    return bool(ctx.service.dnd_on(ctx.user))


_KINDS = ("unconditional", "busy", "noanswer")
_KIND_WORDS = {
    "always": "unconditional",
    "sempre": "unconditional",
    "occupato": "busy",
    "norisposta": "noanswer",
    "nonrisponde": "noanswer",
    "noanswer": "noanswer",
    "senzarisposta": "noanswer",
    "unconditional": "unconditional",
}
_TARGET_WORDS = {
    "off": "off",
    "no": "off",
    "disattiva": "off",
    "spento": "off",
    "voicemail": "voicemail",
    "segreteria": "voicemail",
    "vm": "voicemail",
    "mobile": "mobile",
    "cellulare": "mobile",
    "cell": "mobile",
}


class Forward(Command):
    name = "forward"
    order = 21
    aliases = {"it": ("inoltro", "deviazione")}
    permission = "call_forward"
    args = (
        Arg(
            "target",
            metavar={"en": "off|voicemail|mobile|number", "it": "no|segreteria|cellulare|numero"},
        ),
        Arg(
            "kind",
            "choice",
            ("busy", "noanswer"),
            _KIND_WORDS,
            metavar={"it": "occupato|norisposta"},
        ),
        Arg("seconds", "int", minimum=1, maximum=300, metavar={"it": "secondi"}),
    )
    usage_override = {
        "en": "forward [off|voicemail|mobile|<number>] [busy|noanswer [<seconds>]]",
        "it": "inoltro [no|segreteria|cellulare|<numero>] [occupato|norisposta [<secondi>]]",
    }
    help = {"en": "call forwarding: show or set", "it": "inoltro di chiamata"}
    title = {"en": "Call forwarding", "it": "Inoltro di chiamata"}
    adhoc = True
    form = (
        FormField(
            "kind",
            "list-single",
            {"en": "When", "it": "Quando"},
            (
                ("unconditional", {"en": "always", "it": "sempre"}),
                ("busy", {"en": "when busy", "it": "se occupato"}),
                ("noanswer", {"en": "when not answered", "it": "se non risponde"}),
            ),
            default="unconditional",
            required=True,
        ),
        FormField(
            "destination",
            "list-single",
            {"en": "Forward to", "it": "Inoltra a"},
            lambda ctx: _destinations(ctx),
            default=lambda ctx: _current_target(ctx)[0],
            required=True,
        ),
        FormField(
            "number",
            "text-single",
            {"en": "Number", "it": "Numero"},
            default=lambda ctx: _current_target(ctx)[1],
        ),
        FormField(
            "timeout",
            "text-single",
            {"en": "Ring for (seconds, no answer only)", "it": "Squilli per (secondi)"},
        ),
    )

    async def run(
        self,
        ctx: Context,
        target: str | None = None,
        kind: str | None = None,
        seconds: int | None = None,
    ) -> Result:
        if target is None:
            ctx.service.require_pbx()
            return _show_forwards(ctx)
        word = _TARGET_WORDS.get(target.casefold(), target)
        if target.casefold() in _KIND_WORDS or target.casefold() in ("busy", "noanswer"):
            raise ArgError("parse.missing", name=self.args[0].shown(ctx.language))
        if word == "off" and kind is None and seconds is None:
            kind = "all"  # "forward off" clears every forward, not only "always"
        kind = kind or "unconditional"  # a ring time without "noanswer": the service says why
        result = await ctx.service.set_forward(
            ctx.user, kind, None if word == "off" else word, seconds
        )
        return forward_reply(ctx, result)

    def from_form(self, ctx: Context, values: Values) -> dict[str, Any]:
        kind = _one(values, "kind") or "unconditional"
        if kind not in _KINDS:
            raise ArgError("parse.bad_choice", value=kind, choices="|".join(_KINDS))
        target = _one(values, "destination") or "off"
        if target == "number":
            target = _one(values, "number")
            if not target:
                raise ArgError("parse.missing", name=translate("word.number", ctx.language))
        elif target not in ("off", "voicemail", "mobile"):
            raise ArgError("parse.bad_choice", value=target, choices="off|voicemail|mobile|number")
        timeout = _one(values, "timeout")
        seconds = self.args[2].convert(timeout) if timeout else None
        return {"target": target, "kind": kind, "seconds": seconds}


def forward_reply(ctx: Context, result: ForwardResult) -> Result:
    """What a forward change did, with the ring time and whatever forward stays set."""
    lang = ctx.language
    if result.kind == "all":
        head = Reply.of("forward.all_off")
    elif result.destination is None:
        head = Reply.of("forward.off", kind=translate(f"kind.{result.kind}", lang))
    else:
        head = Reply.of(
            "forward.set_after" if result.timeout else "forward.set",
            kind=translate(f"kind.{result.kind}", lang),
            destination=shown_target(ctx, result.destination),
            seconds=result.timeout,
        )
    if result.destination is not None or not result.still_set:
        return head  # what stays set matters when something was turned off
    still = "; ".join(
        translate(
            "forward.item",
            lang,
            kind=translate(f"kind.{kind}", lang),
            destination=shown_target(ctx, target),
        )
        for kind, target in result.still_set
    )
    return Lines((head, Reply.of("forward.still", forwards=still)))


def _one(values: Values, name: str) -> str:
    raw = values.get(name)
    if isinstance(raw, list):
        raw = raw[0] if raw else ""
    return (raw or "").strip()


def _destinations(ctx: Context) -> list[Option]:
    options: list[Option] = [
        ("off", {"en": "nowhere (off)", "it": "nessuno (disattivo)"}),
        ("voicemail", {"en": "my voicemail", "it": "la mia segreteria"}),
    ]
    if ctx.user.mobile:
        options.append(
            (
                "mobile",
                {"en": f"my mobile {ctx.user.mobile}", "it": f"il mio cellulare {ctx.user.mobile}"},
            )
        )
    options.append(("number", {"en": "the number below", "it": "il numero qui sotto"}))
    return options


def _current_target(ctx: Context) -> tuple[str, str | None]:
    """The unconditional forward now, as the form's (destination, number) defaults."""
    value = ctx.service.unconditional_forward(ctx.user)
    if not value:
        return "off", None
    kind, _ = ctx.service.forward_target(ctx.user, value)
    return (kind, None) if kind != "number" else ("number", value)


def shown_target(ctx: Context, value: str) -> str:
    """A forward's destination as the user reads it: their voicemail, mobile, or a label."""
    kind, text = ctx.service.forward_target(ctx.user, value)
    if kind == "voicemail":
        return translate("word.voicemail", ctx.language)
    if kind == "mobile":
        return translate("word.mobile", ctx.language, number=text)
    return text or value


def _show_forwards(ctx: Context) -> Result:
    lines: list[Reply | str] = [
        Reply.of(
            "forward.line",
            kind=translate(f"kind.{kind}", ctx.language),
            destination=shown_target(ctx, value),
        )
        for kind, value in ctx.service.forwards(ctx.user)
    ]
    return Lines(tuple(lines)) if lines else Reply.of("forward.none")


COMMANDS = (Dnd, Forward)
