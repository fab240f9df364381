"""The queue command: show, log in / out, pause and resume (F9)."""
# ruff: noqa: RUF012 - command declarations are read-only class data

from __future__ import annotations

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


def _one(values: Values, name: str) -> str:
    raw = values.get(name)
    if isinstance(raw, list):
        raw = raw[0] if raw else ""
    return (raw or "").strip()


_QUEUE_ACTIONS = ("login", "logout", "pause", "resume")
_QUEUE_WORDS = {
    "entra": "login",
    "accedi": "login",
    "esci": "logout",
    "pausa": "pause",
    "riprendi": "resume",
}


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
            lambda ctx: [(q, q) for q in ctx.service.queue_names(ctx.user)],
            default=lambda ctx: [q for q, _ in ctx.service.memberships(ctx.user)],
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
        services, user = ctx.service, ctx.user
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
        known = set(ctx.service.queue_names(ctx.user))
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
    if words and ctx.service.is_queue(words[-1]):
        return words[-1], " ".join(words[:-1]) or None
    return None, " ".join(words) or None


def _show_queues(ctx: Context) -> Result:
    lines: list[Reply | str] = []
    for queue, member in ctx.service.memberships(ctx.user):
        kind = translate("word.dynamic" if member.dynamic else "word.static", ctx.language)
        if member.paused:
            lines.append(
                Reply.of("queue.line_paused", queue=queue, kind=kind, reason=member.reason or "-")
            )
        else:
            lines.append(Reply.of("queue.line", queue=queue, kind=kind))
    return Lines(tuple(lines)) if lines else Reply.of("queue.none")


COMMANDS = (QueueCommand,)
