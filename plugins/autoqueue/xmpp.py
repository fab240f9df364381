"""XMPP wiring: users coming online and going away."""

from __future__ import annotations

from ctibot.plugin import PluginContext

from .services import AutoQueue


def setup(ctx: PluginContext, service: AutoQueue) -> None:
    if ctx.xmpp is not None:
        ctx.xmpp.on_online(service.online)
        ctx.xmpp.on_away(service.away)
