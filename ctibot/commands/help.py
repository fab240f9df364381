"""The core's own command: ``help`` (what the user may do here, from every loaded plugin)."""
# ruff: noqa: RUF012 - command declarations are read-only class data

from __future__ import annotations

from ctibot.commands.base import Arg, Command, Context, Lines, Registry, Reply, Result


class Help(Command):
    name = "help"
    order = 0
    aliases = {"it": ("aiuto",)}
    args = (Arg("command", metavar={"en": "command", "it": "comando"}),)
    help = {"en": "what you can do here", "it": "cosa puoi fare qui"}

    async def run(self, ctx: Context, command: str | None = None) -> Result:
        lang = ctx.language
        if command is not None:
            found = ctx.registry.lookup(command)
            if found is None or not ctx.may(found.permission):
                return Reply.of("help.unknown", name=command)
            others = [w for w in found.words() if w != found.word(lang)]
            lines: list[Reply | str] = [f"{found.usage(lang)} — {found.describe(lang)}"]
            if others:
                lines.append(Reply.of("help.aliases", words=", ".join(others)))
            return Lines(tuple(lines))
        allowed = [c for c in ctx.registry if ctx.may(c.permission)]
        usages = [f"{c.usage(lang)} — {c.describe(lang)}" for c in allowed]
        more = Reply.of("help.more", help=self.word(lang))
        return Lines((Reply.of("help.title"), *usages, more))


#: The commands the core brings to every registry.
CORE_COMMANDS: tuple[type[Command], ...] = (Help,)


def core_registry() -> Registry:
    """A registry with the core's commands only; the loader adds the enabled plugins'."""
    registry = Registry()
    for command in CORE_COMMANDS:
        registry.register(command)
    return registry
