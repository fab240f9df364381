"""Built-in commands for the user's phone settings: do-not-disturb, forwarding, queues."""
# ruff: noqa: RUF012 - command declarations are read-only class data

from __future__ import annotations

from typing import Any

from ctibot.commands.base import (
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
    command,
)
from ctibot.commands.i18n import translate
from ctibot.services.results import ForwardResult, label

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


@command
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
            ctx.services.require_pbx()
            return Reply.of("dnd.is_on" if _dnd_on(ctx) else "dnd.is_off", extensions=exts)
        result = await ctx.services.set_dnd(ctx.user, state == "on")
        if not result.changed:
            return Reply.of("dnd.already_on" if result.on else "dnd.already_off")
        return Reply.of("dnd.set_on" if result.on else "dnd.set_off", extensions=exts)


def _dnd_on(ctx: Context) -> bool:
    state = ctx.services.state
    return any(state.extensions[e].dnd for e in ctx.user.extensions if e in state.extensions)


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


@command
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
            ctx.services.require_pbx()
            return _show_forwards(ctx)
        word = _TARGET_WORDS.get(target.casefold(), target)
        if target.casefold() in _KIND_WORDS or target.casefold() in ("busy", "noanswer"):
            raise ArgError("parse.missing", name=self.args[0].shown(ctx.language))
        if word == "off" and kind is None and seconds is None:
            kind = "all"  # "forward off" clears every forward, not only "always"
        kind = kind or "unconditional"  # a ring time without "noanswer": the service says why
        result = await ctx.services.set_forward(
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
    state = ctx.services.state
    ext = state.extensions.get(ctx.user.default_extension)
    value = ext.forward.get("unconditional") if ext is not None else None
    if not value:
        return "off", None
    if value.startswith("vmu"):
        return "voicemail", None
    mobile = ctx.user.mobile
    if mobile and value.lstrip("+0") == mobile.lstrip("+0"):
        return "mobile", None
    return "number", value


def shown_target(ctx: Context, value: str) -> str:
    if value.startswith("vmu"):
        return translate("word.voicemail", ctx.language)
    mobile = ctx.user.mobile
    if mobile and value.lstrip("+0") == mobile.lstrip("+0"):
        return translate("word.mobile", ctx.language, number=mobile)
    return label(ctx.services.name_of_number(value), value)


def _show_forwards(ctx: Context) -> Result:
    state = ctx.services.state
    lines: list[Reply | str] = []
    for kind in _KINDS:
        values = {
            state.extensions[e].forward.get(kind)
            for e in ctx.user.extensions
            if e in state.extensions
        } - {None}
        for value in sorted(v for v in values if v):
            lines.append(
                Reply.of(
                    "forward.line",
                    kind=translate(f"kind.{kind}", ctx.language),
                    destination=shown_target(ctx, value),
                )
            )
    return Lines(tuple(lines)) if lines else Reply.of("forward.none")


_QUEUE_ACTIONS = ("login", "logout", "pause", "resume")
_QUEUE_WORDS = {
    "entra": "login",
    "accedi": "login",
    "esci": "logout",
    "pausa": "pause",
    "riprendi": "resume",
}


@command
class QueueCommand(Command):
    name = "queue"
    order = 22
    aliases = {"it": ("coda", "code"), "en": ("queues",)}
    permission = "queue_agent"
    args = (
        Arg(
            "action",
            "choice",
            _QUEUE_ACTIONS,
            _QUEUE_WORDS,
            metavar={"it": "entra|esci|pausa|riprendi"},
        ),
        Arg("rest", rest=True, metavar={"en": "queue", "it": "coda"}),
    )
    usage_override = {
        "en": "queue [login|logout|pause [<reason>]|resume] [<queue>]",
        "it": "coda [entra|esci|pausa [<motivo>]|riprendi] [<coda>]",
    }
    help = {"en": "your queues: show, log in/out, pause", "it": "le tue code: entra, esci, pausa"}
    title = {"en": "Queues", "it": "Code"}
    adhoc = True
    form = (
        FormField(
            "action",
            "list-single",
            {"en": "Action", "it": "Azione"},
            (
                ("login", {"en": "log in", "it": "entra"}),
                ("logout", {"en": "log out", "it": "esci"}),
                ("pause", {"en": "pause", "it": "pausa"}),
                ("resume", {"en": "resume", "it": "riprendi"}),
            ),
            required=True,
        ),
        FormField(
            "queues",
            "list-multi",
            {"en": "Queues (none = all)", "it": "Code (nessuna = tutte)"},
            lambda ctx: [(q, q) for q in ctx.services.queue_names(ctx.user)],
            default=lambda ctx: [q for q, _ in ctx.services.memberships(ctx.user)],
        ),
        FormField("reason", "text-single", {"en": "Pause reason", "it": "Motivo della pausa"}),
    )

    async def run(
        self,
        ctx: Context,
        action: str | None = None,
        rest: str | None = None,
        queues: list[str] | None = None,
        reason: str | None = None,
    ) -> Result:
        services, user = ctx.services, ctx.user
        if action is None:
            if rest:
                raise ArgError(
                    "parse.bad_choice", value=rest.split()[0], choices="|".join(_QUEUE_ACTIONS)
                )
            services.require_pbx()
            return _show_queues(ctx)
        if queues is None:
            queue, reason = _split_queue(ctx, action, rest)
            queues = [queue] if queue else []
        changed: list[str] = []
        unchanged: list[str] = []
        for queue in queues or [None]:
            if action == "login":
                result = await services.queue_login(user, queue)
            elif action == "logout":
                result = await services.queue_logout(user, queue)
            elif action == "pause":
                result = await services.queue_pause(user, reason, queue)
            else:
                result = await services.queue_resume(user, queue)
            changed += result.changed
            unchanged += result.unchanged
        if not changed:
            return Reply.of(f"queue.{action}_none", queues=", ".join(unchanged) or "-")
        key = "queue.pause_plain" if action == "pause" and not reason else f"queue.{action}"
        return Reply.of(key, queues=", ".join(changed), reason=reason or "")

    def from_form(self, ctx: Context, values: Values) -> dict[str, Any]:
        action = _one(values, "action")
        if action not in _QUEUE_ACTIONS:
            raise ArgError("parse.bad_choice", value=action, choices="|".join(_QUEUE_ACTIONS))
        raw = values.get("queues") or []
        chosen = [raw] if isinstance(raw, str) else list(raw)
        known = set(ctx.services.queue_names(ctx.user))
        for queue in chosen:
            if queue not in known:
                raise ArgError("parse.bad_choice", value=queue, choices=", ".join(sorted(known)))
        return {"action": action, "queues": chosen, "reason": _one(values, "reason") or None}


def _split_queue(ctx: Context, action: str, rest: str | None) -> tuple[str | None, str | None]:
    """(queue, reason) from the words after the action: a pause reason may precede the queue."""
    words = (rest or "").split()
    if action != "pause":
        if len(words) > 1:
            raise ArgError("parse.extra", value=" ".join(words[1:]))
        return (words[0] if words else None), None
    if words and words[-1] in ctx.services.state.queues:
        return words[-1], " ".join(words[:-1]) or None
    return None, " ".join(words) or None


def _show_queues(ctx: Context) -> Result:
    lines: list[Reply | str] = []
    for queue, member in ctx.services.memberships(ctx.user):
        kind = translate("word.dynamic" if member.dynamic else "word.static", ctx.language)
        if member.paused:
            lines.append(
                Reply.of("queue.line_paused", queue=queue, kind=kind, reason=member.reason or "-")
            )
        else:
            lines.append(Reply.of("queue.line", queue=queue, kind=kind))
    return Lines(tuple(lines)) if lines else Reply.of("queue.none")
