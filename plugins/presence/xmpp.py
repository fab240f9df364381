"""XMPP wiring: the presence source of the virtual JIDs, and the ``team`` chat word."""

from __future__ import annotations

from ctibot.plugin import PluginContext

from .services import PresenceService

TEAM_WORDS = ("team", "squadra")


def setup(ctx: PluginContext, service: PresenceService) -> None:
    """Show the PBX on the virtual JIDs (nothing to do without XMPP)."""
    if ctx.xmpp is None:
        return
    ctx.xmpp.set_presence(service.presence_of)
    ctx.xmpp.on_chat_word(TEAM_WORDS, service.team)
