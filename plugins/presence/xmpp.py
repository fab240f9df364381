"""XMPP wiring: the presence source of the virtual JIDs."""

from __future__ import annotations

from ctibot.plugin import PluginContext

from .services import PresenceService


def setup(ctx: PluginContext, service: PresenceService) -> None:
    """Show the PBX on the virtual JIDs (nothing to do without XMPP)."""
    if ctx.xmpp is not None:
        ctx.xmpp.set_presence(service.presence_of)
