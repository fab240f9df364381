"""The presence plugin's command: ``team`` (for servers without the mod_groups file)."""
# ruff: noqa: RUF012 - command declarations are read-only class data

from __future__ import annotations

from ctibot.plugin import Command, Context, Result


class Team(Command):
    name = "team"
    permission = "presence_panel"  # the info plugin's: see the state of users and phones
    order = 50
    aliases = {"it": ("squadra",)}
    help = {
        "en": "put every person and phone into your chat roster",
        "it": "mette tutte le persone e i telefoni nei tuoi contatti",
    }

    async def run(self, ctx: Context) -> Result:
        return ctx.service.team(ctx.user)


COMMANDS = (Team,)
