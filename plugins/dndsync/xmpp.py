"""XMPP wiring: follow what the users' chat clients show."""

from __future__ import annotations

from ctibot.plugin import PluginContext

from .services import DndSync


def setup(ctx: PluginContext, service: DndSync) -> None:
    if ctx.xmpp is not None:
        ctx.xmpp.on_show(service.on_show)
