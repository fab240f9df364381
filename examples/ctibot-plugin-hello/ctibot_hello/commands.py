"""The chat (and ad-hoc) command: ``hello`` / ``ciao``."""
# ruff: noqa: RUF012 - command declarations are read-only class data

from __future__ import annotations

from ctibot.plugin import Command, Context, Reply, Result


class Hello(Command):
    name = "hello"
    aliases = {"it": ("ciao",)}
    permission = "hello"
    adhoc = True  # no fields: an ad-hoc client runs it at once
    title = {"en": "Say hello", "it": "Saluta"}
    help = {"en": "ctibot says hello", "it": "ctibot ti saluta"}
    order = 200

    async def run(self, ctx: Context) -> Result:
        service = ctx.service  # this plugin's HelloService
        return Reply.of(
            "hello.reply",
            greeting=service.greet(ctx.language),
            name=ctx.user.fullname,
            calls=service.calls_ended,
        )


COMMANDS = (Hello,)
